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

/// How many chunks parallel loops use: the machine's cores. Work is split into a fixed number of
/// pieces per op (see `parallelFor`), never into a count that depends on this, so results are
/// identical whatever it is.
public let computeThreads = max(1, activeProcessorCount())

private func activeProcessorCount() -> Int {
    #if canImport(Darwin)
    return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
    return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #endif
}

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
