import Synchronization

/// A Float32 buffer owned by one or more tensors. Buffers come from and return to a
/// process-wide pool of recently freed buffers, so the large activations and workspaces of a
/// training step are reused from step to step instead of page-faulted in anew (MEASURED.md).
public final class Storage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Uninitialized memory for `count` floats: the caller writes every element.
    public init(uninitializedCount count: Int) {
        self.count = count
        self.pointer = BufferPool.shared.take(count)
    }

    /// `count` zeros.
    public convenience init(zeros count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: 0, count: count)
    }

    public convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(uninitializedCount: count)
        pointer.update(from: source, count: count)
    }

    deinit { BufferPool.shared.give(pointer, count: count) }
}

/// Keeps freed buffers by size, up to a byte budget, so the next request of the same size
/// reuses memory that is already mapped. Small buffers go straight to malloc.
final class BufferPool: Sendable {
    static let shared = BufferPool(budgetBytes: 1 << 30)

    private struct State {
        var free: [Int: [SendablePointer<Float>]] = [:]
        var retainedBytes = 0
    }
    private let state: Mutex<State>
    private let budgetBytes: Int
    private static let smallest = 4096  // floats; below this malloc is as fast as the pool

    init(budgetBytes: Int) {
        self.budgetBytes = budgetBytes
        self.state = Mutex(State())
    }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        if n >= Self.smallest {
            let reused = state.withLock { s -> SendablePointer<Float>? in
                guard let p = s.free[n]?.popLast() else { return nil }
                s.retainedBytes -= n * 4
                return p
            }
            if let reused { return reused.pointer }
        }
        return UnsafeMutablePointer<Float>.allocate(capacity: n)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let n = max(count, 1)
        if n >= Self.smallest {
            let pointer = SendablePointer(pointer)
            let kept = state.withLock { s -> Bool in
                guard s.retainedBytes + n * 4 <= budgetBytes else { return false }
                s.free[n, default: []].append(pointer)
                s.retainedBytes += n * 4
                return true
            }
            if kept { return }
        }
        pointer.deallocate()
    }

    /// Frees every pooled buffer (tests and long-lived processes between experiments).
    func drain() {
        let buffers = state.withLock { s -> [SendablePointer<Float>] in
            let all = s.free.values.flatMap { $0 }
            s.free = [:]
            s.retainedBytes = 0
            return all
        }
        for p in buffers { p.pointer.deallocate() }
    }
}
