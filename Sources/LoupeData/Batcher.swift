import Dispatch
import LoupeCore

/// How a `Batcher` picks examples.
public enum SamplingMode: Sendable, Equatable {
    /// Every step draws `batchSize` indices uniformly, with replacement, independently of earlier
    /// steps: the reference experiments' `np.random.randint(0, N, batch_size)` per step.
    case withReplacement
    /// Epochs: a fresh Fisher–Yates shuffle of all N indices per epoch, cut into consecutive
    /// batches (PyTorch's `DataLoader(shuffle=True)`). With `dropRemainder` an epoch's last
    /// batch is dropped when it would be short (`drop_last=True`); otherwise it is smaller.
    case epochs(dropRemainder: Bool)
}

/// One batch: images [n, H, W, C], their labels, the dataset indices they came from, and the
/// epoch they belong to (0 when sampling with replacement).
public struct Batch: Sendable {
    public let images: Tensor
    public let labels: [Int32]
    public let indices: [Int]
    public let epoch: Int
}

/// Where a `Batcher` stands, for checkpoints: a batcher made from this state produces the same
/// batches, in the same order, as the one it was taken from would have produced next.
public struct BatcherState: Sendable, Equatable {
    /// The generator before drawing the next batch (with replacement) or before shuffling the
    /// current epoch (epochs): 11 words, see `RandomGenerator.state`.
    public var generator: [UInt32]
    /// Batches produced so far.
    public var batchesProduced: Int
    /// Epochs: the current epoch and the position in its shuffled order.
    public var epoch: Int
    public var position: Int

    public init(generator: [UInt32], batchesProduced: Int, epoch: Int, position: Int) {
        self.generator = generator
        self.batchesProduced = batchesProduced
        self.epoch = epoch
        self.position = position
    }
}

/// Serves batches of a `Dataset` for training: seeded sampling (`SamplingMode`) with a
/// generator the caller passes in (never a system one), and background prefetch: while the
/// caller trains on batch k, batch k + 1 is being stacked on another thread.
///
/// Indices are always drawn on the caller's thread, in `next()` order; the background thread
/// only copies images. So the batches depend on the seed alone, never on timing, and `state`
/// restores exactly (swift-models' MNIST batcher used a system generator: not reproducible).
public final class Batcher {
    public let dataset: Dataset
    public let batchSize: Int
    public let mode: SamplingMode
    public let prefetches: Bool

    private var generator: RandomGenerator
    /// Epochs: the generator as it was before this epoch's shuffle, and the shuffle.
    private var epochGenerator: RandomGenerator
    private var order: [Int] = []
    private var epoch = 0
    private var position = 0
    private var produced = 0
    /// The next batch's indices, drawn ahead, with the state from before drawing them.
    private var pending: (indices: [Int], epoch: Int, stateBefore: BatcherState)?
    private var pendingWork: PrefetchedBatch?
    private let queue = DispatchQueue(label: "loupe.batcher.prefetch")

    /// A batcher over `dataset` drawing with `generator` (give it its own stream of the trial's
    /// seed). Throws when `batchSize` is not positive, the dataset is empty, or `dropRemainder`
    /// would leave no batch at all.
    public init(dataset: Dataset, batchSize: Int, mode: SamplingMode, generator: RandomGenerator,
                prefetch: Bool = true) throws {
        try Self.validate(dataset: dataset, batchSize: batchSize, mode: mode)
        self.dataset = dataset
        self.batchSize = batchSize
        self.mode = mode
        self.prefetches = prefetch
        self.generator = generator
        self.epochGenerator = generator
        if case .epochs = mode { shuffleEpoch() }
    }

    /// A batcher that continues from `state` (taken from a batcher with the same dataset, batch
    /// size and mode).
    public init(dataset: Dataset, batchSize: Int, mode: SamplingMode, state: BatcherState,
                prefetch: Bool = true) throws {
        try Self.validate(dataset: dataset, batchSize: batchSize, mode: mode)
        guard state.batchesProduced >= 0, state.epoch >= 0, state.position >= 0, state.position <= dataset.count else {
            throw LoupeError.invalidArgument(name: "BatcherState",
                                             message: "position \(state.position), epoch \(state.epoch) and \(state.batchesProduced) batches do not fit a dataset of \(dataset.count)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.mode = mode
        self.prefetches = prefetch
        self.generator = try RandomGenerator(state: state.generator)
        self.epochGenerator = generator
        self.produced = state.batchesProduced
        if case .epochs = mode {
            epoch = state.epoch
            shuffleEpoch()
            position = state.position
        }
    }

    private static func validate(dataset: Dataset, batchSize: Int, mode: SamplingMode) throws {
        guard batchSize > 0 else {
            throw LoupeError.invalidArgument(name: "batchSize", message: "must be positive, got \(batchSize)")
        }
        guard dataset.count > 0 else {
            throw LoupeError.invalidArgument(name: "dataset", message: "cannot draw batches from an empty dataset")
        }
        if mode == .epochs(dropRemainder: true) && batchSize > dataset.count {
            throw LoupeError.invalidArgument(name: "batchSize",
                                             message: "\(batchSize) is larger than the \(dataset.count) examples, and dropRemainder leaves no batch")
        }
    }

    deinit {
        // Let a prefetch in flight finish before the dataset it reads can go away.
        pendingWork?.wait()
    }

    /// Batches produced by `next()` so far.
    public var batchesProduced: Int { produced }

    /// The state to checkpoint: restoring it continues with the batch `next()` would return now.
    public var state: BatcherState {
        if let pending { return pending.stateBefore }
        return currentState
    }

    /// The next batch. With prefetch, it was stacked while the previous one was in use, and the
    /// one after it starts now.
    public func next() -> Batch {
        let (indices, batchEpoch) = takeIndices()
        let batch: Batch
        if let work = pendingWork {
            batch = work.wait()
            pendingWork = nil
        } else {
            batch = assembleBatch(dataset, indices: indices, epoch: batchEpoch)
        }
        produced += 1
        if prefetches {
            let stateBefore = currentState
            let (nextIndices, nextEpoch) = drawIndices()
            pending = (nextIndices, nextEpoch, stateBefore)
            let work = PrefetchedBatch()
            let dataset = self.dataset
            queue.async { work.fulfil(assembleBatch(dataset, indices: nextIndices, epoch: nextEpoch)) }
            pendingWork = work
        }
        return batch
    }

    /// The drawn-ahead indices, or fresh ones.
    private func takeIndices() -> ([Int], Int) {
        if let pending {
            self.pending = nil
            return (pending.indices, pending.epoch)
        }
        return drawIndices()
    }

    private var currentState: BatcherState {
        switch mode {
        case .withReplacement:
            return BatcherState(generator: generator.state, batchesProduced: produced, epoch: 0, position: 0)
        case .epochs:
            return BatcherState(generator: epochGenerator.state, batchesProduced: produced, epoch: epoch,
                                position: position)
        }
    }

    private func drawIndices() -> ([Int], Int) {
        let n = dataset.count
        switch mode {
        case .withReplacement:
            var indices = [Int](repeating: 0, count: batchSize)
            for i in 0..<batchSize { indices[i] = generator.nextInt(below: n) }
            return (indices, 0)
        case let .epochs(dropRemainder):
            let remaining = n - position
            if remaining == 0 || (dropRemainder && remaining < batchSize) {
                epoch += 1
                epochGenerator = generator
                shuffleEpoch()
            }
            let end = min(position + batchSize, n)
            let indices = Array(order[position..<end])
            position = end
            return (indices, epoch)
        }
    }

    /// Shuffles 0..<N with `generator` (Fisher–Yates, from the last position down) and starts
    /// the epoch at position 0. `epochGenerator` keeps the state from before, for `state`.
    private func shuffleEpoch() {
        let n = dataset.count
        order = Array(0..<n)
        var i = n - 1
        while i > 0 {
            let j = generator.nextInt(below: i + 1)
            order.swapAt(i, j)
            i -= 1
        }
        position = 0
    }
}

/// Stacks the images at `indices` (on the caller's thread or the prefetch queue).
private func assembleBatch(_ dataset: Dataset, indices: [Int], epoch: Int) -> Batch {
    let (images, labels) = dataset.batch(indices: indices)
    return Batch(images: images, labels: labels, indices: indices, epoch: epoch)
}

/// A batch being stacked on the prefetch queue; `wait` blocks until it is there. The semaphore
/// orders the write in `fulfil` before the read in `wait`, hence `@unchecked Sendable`.
private final class PrefetchedBatch: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var batch: Batch?

    func fulfil(_ batch: Batch) {
        self.batch = batch
        done.signal()
    }

    @discardableResult
    func wait() -> Batch {
        done.wait()
        defer { done.signal() }  // a later wait (deinit) must not block
        return batch!
    }
}
