import LoupeCore
import LoupeData
import Testing

@Suite struct BatcherTests {
    /// 10 one-pixel images: image i holds byte i (i / 255 in a batch) and label i % 3.
    func dataset(_ count: Int = 10) throws -> Dataset {
        try Dataset(pixels: (0..<count).map { UInt8($0) }, labels: (0..<count).map { Int32($0 % 3) },
                    imageShape: ImageShape(height: 1, width: 1, channels: 1), classNames: ["a", "b", "c"])
    }

    func draw(_ batcher: Batcher, _ steps: Int) -> [[Int]] {
        (0..<steps).map { _ in batcher.next().indices }
    }

    /// The reference draw, written out: each step, `batchSize` calls of `nextInt(below: N)`.
    @Test func withReplacementDrawsUniformIndicesInOrder() throws {
        let batcher = try Batcher(dataset: dataset(), batchSize: 4, mode: .withReplacement,
                                  generator: RandomGenerator(seed: 42, stream: 3))
        var reference = RandomGenerator(seed: 42, stream: 3)
        for _ in 0..<5 {
            let batch = batcher.next()
            let expected = (0..<4).map { _ in reference.nextInt(below: 10) }
            #expect(batch.indices == expected)
            #expect(batch.images.shape == [4, 1, 1, 1])
            #expect(batch.images.scalars == expected.map { Float($0) / 255 })
            #expect(batch.labels == expected.map { Int32($0 % 3) })
            #expect(batch.epoch == 0)
        }
        #expect(batcher.batchesProduced == 5)
    }

    /// Each epoch is a Fisher–Yates shuffle (last position down, j = nextInt(below: i + 1)) cut
    /// into batches; the short last batch is kept, or dropped with `dropRemainder`.
    @Test func epochsAreShuffledPermutations() throws {
        let batcher = try Batcher(dataset: dataset(), batchSize: 4, mode: .epochs(dropRemainder: false),
                                  generator: RandomGenerator(seed: 7))
        var reference = RandomGenerator(seed: 7)
        for epoch in 0..<3 {
            var order = Array(0..<10)
            for i in stride(from: 9, to: 0, by: -1) { order.swapAt(i, reference.nextInt(below: i + 1)) }
            let batches = (0..<3).map { _ in batcher.next() }
            #expect(batches.map(\.indices.count) == [4, 4, 2])
            #expect(batches.flatMap(\.indices) == order)
            #expect(batches.allSatisfy { $0.epoch == epoch })
        }

        let dropping = try Batcher(dataset: dataset(), batchSize: 4, mode: .epochs(dropRemainder: true),
                                   generator: RandomGenerator(seed: 7))
        let epochs = (0..<6).map { _ in dropping.next() }
        #expect(epochs.allSatisfy { $0.indices.count == 4 })
        #expect(epochs.map(\.epoch) == [0, 0, 1, 1, 2, 2])
        #expect(Set(epochs[0].indices + epochs[1].indices).count == 8)
    }

    /// Prefetching changes when images are stacked, never which.
    @Test(arguments: [SamplingMode.withReplacement, .epochs(dropRemainder: false), .epochs(dropRemainder: true)])
    func prefetchDoesNotChangeTheSequence(mode: SamplingMode) throws {
        let eager = try Batcher(dataset: dataset(), batchSize: 3, mode: mode, generator: RandomGenerator(seed: 5), prefetch: true)
        let lazy = try Batcher(dataset: dataset(), batchSize: 3, mode: mode, generator: RandomGenerator(seed: 5), prefetch: false)
        for _ in 0..<12 {
            let (a, b) = (eager.next(), lazy.next())
            #expect(a.indices == b.indices)
            #expect(a.images.scalars == b.images.scalars)
            #expect(a.epoch == b.epoch)
        }
    }

    /// A batcher rebuilt from `state` after k batches continues exactly as the original does,
    /// across epoch boundaries, with or without prefetch.
    @Test(arguments: [SamplingMode.withReplacement, .epochs(dropRemainder: false), .epochs(dropRemainder: true)])
    func resumesFromItsState(mode: SamplingMode) throws {
        for prefetch in [true, false] {
            for steps in [0, 1, 2, 3, 5, 7] {
                let original = try Batcher(dataset: dataset(), batchSize: 3, mode: mode,
                                           generator: RandomGenerator(seed: 11, stream: 1), prefetch: prefetch)
                _ = draw(original, steps)
                let state = original.state
                #expect(state.batchesProduced == steps)
                let resumed = try Batcher(dataset: dataset(), batchSize: 3, mode: mode, state: state, prefetch: !prefetch)
                #expect(resumed.batchesProduced == steps)
                let continued = (0..<9).map { _ in original.next() }
                let replayed = (0..<9).map { _ in resumed.next() }
                #expect(continued.map(\.indices) == replayed.map(\.indices), "\(mode), prefetch \(prefetch), after \(steps)")
                #expect(continued.map(\.epoch) == replayed.map(\.epoch))
                #expect(resumed.batchesProduced == steps + 9)
            }
        }
    }

    @Test func differentSeedsDiffer() throws {
        let a = try Batcher(dataset: dataset(100), batchSize: 8, mode: .withReplacement, generator: RandomGenerator(seed: 1))
        let b = try Batcher(dataset: dataset(100), batchSize: 8, mode: .withReplacement, generator: RandomGenerator(seed: 2))
        #expect(draw(a, 3) != draw(b, 3))
    }

    @Test func rejectsBadArguments() throws {
        #expect(throws: LoupeError.self) {
            try Batcher(dataset: dataset(), batchSize: 0, mode: .withReplacement, generator: RandomGenerator(seed: 1))
        }
        #expect(throws: LoupeError.self) {
            try Batcher(dataset: dataset(), batchSize: 11, mode: .epochs(dropRemainder: true), generator: RandomGenerator(seed: 1))
        }
        let state = BatcherState(generator: [1, 2, 3], batchesProduced: 0, epoch: 0, position: 0)
        #expect(throws: LoupeError.self) {
            try Batcher(dataset: dataset(), batchSize: 2, mode: .withReplacement, state: state)
        }
    }
}
