import CLoupeSupport
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An unsafe pointer that may cross into `parallelFor`'s worker closures or a prefetch thread.
/// The only place the project opts out of Sendable checking for pointers: callers hand each
/// worker a disjoint part of a buffer.
public struct SendablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    @inlinable public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
    @inlinable public init(_ pointer: UnsafePointer<T>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}

/// How many workers parallel loops use: `LOUPE_THREADS` when it is set (1...256), else the
/// machine's cores; `setComputeThreads` changes it (`loupe run --threads`). Results never depend on
/// it: every op splits its work into pieces fixed by the shapes, and each output is summed by one
/// worker in a fixed order, so a trial gives the same bits at 1, 2 or 16 threads.
public var computeThreads: Int { threadSetting.count }

/// The range `setComputeThreads` and `LOUPE_THREADS` accept.
public let computeThreadRange = 1...256

/// Sets the number of workers for parallel loops from now on. Call it before work starts (the
/// command line does, from `--threads`): loops already running keep the count they read.
public func setComputeThreads(_ count: Int) throws {
    guard computeThreadRange.contains(count) else {
        throw LoupeError.invalidArgument(name: "threads", message: "must be between 1 and \(computeThreadRange.upperBound), got \(count)")
    }
    threadSetting.count = count
}

/// The machine's cores, or `LOUPE_THREADS` (a bad value is reported on standard error, naming the
/// variable, and the cores are used).
private final class ThreadSetting: @unchecked Sendable {
    var count: Int
    init() {
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        count = cores
        guard let raw = getenv("LOUPE_THREADS"), let value = Optional(String(cString: raw)), !value.isEmpty else { return }
        if let n = Int(value), computeThreadRange.contains(n) {
            count = n
        } else {
            var line = "loupe: LOUPE_THREADS=\(value) is not a count in \(computeThreadRange); using the \(cores) cores\n"
            line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        }
    }
}

private let threadSetting = ThreadSetting()

/// Runs `body(i)` for `i` in `0..<count` on up to `computeThreads` threads and returns when all
/// are done. Each worker flushes denormals to zero first. `body` must give the same result for
/// each `i` whichever thread runs it: callers split work by fixed sizes, not by thread count.
@inlinable
public func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 0 { return }
    if count == 1 || computeThreads == 1 {
        flushDenormals()
        for i in 0..<count { body(i) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: count) { i in
        flushDenormals()
        body(i)
    }
}

/// Sets flush-to-zero and denormals-are-zero on the calling thread (a few nanoseconds).
@inlinable
public func flushDenormals() { loupe_flush_denormals() }

/// Whether the calling thread flushes denormals to zero.
public var flushesDenormals: Bool { loupe_flushes_denormals() != 0 }

/// Splits `0..<total` into `parts` contiguous ranges as equal as possible.
@inlinable
public func chunkRange(_ part: Int, of parts: Int, total: Int) -> Range<Int> {
    let base = total / parts, extra = total % parts
    let start = part * base + min(part, extra)
    return start..<(start + base + (part < extra ? 1 : 0))
}

/// Runs `body` over `0..<total` cut into contiguous ranges of at least `grain` elements, one per
/// thread at most. For elementwise work whose result does not depend on how it is cut.
@inlinable
public func parallelRanges(_ total: Int, grain: Int = 1 << 15, _ body: @Sendable (Range<Int>) -> Void) {
    let parts = max(1, min(computeThreads, total / max(grain, 1)))
    if parts == 1 {
        flushDenormals()
        body(0..<total)
        return
    }
    parallelFor(parts) { body(chunkRange($0, of: parts, total: total)) }
}
