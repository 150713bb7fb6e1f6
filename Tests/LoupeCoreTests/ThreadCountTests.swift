import LoupeCore
import Testing

/// Ops split their work into pieces that depend on the thread count for elementwise work (any
/// cut gives the same values) and on the shapes alone for everything else: the values must not
/// change with the count. Each case is large enough to be cut, mid-row, into many pieces.
@Suite(.serialized) struct ThreadCountTests {
    @Test func broadcastArithmeticGivesTheSameValuesAtAnyThreadCount() throws {
        let before = computeThreads
        defer { try? setComputeThreads(before) }
        var g = RandomGenerator(seed: 11)
        let matrix = Tensor.randomNormal([250, 1024], generator: &g), row = Tensor.randomNormal([1024], generator: &g)
        let a = matrix.scalars, b = row.scalars
        // The reference: every element on its own, row r column c against row[c].
        let sum = (0..<a.count).map { a[$0] + b[$0 % 1024] }, product = (0..<a.count).map { b[$0 % 1024] * a[$0] }
        for threads in [1, 2, 3, 5, 7, 8, 16] {
            try setComputeThreads(threads)
            #expect(try (matrix + row).scalars == sum, "matrix + row at \(threads) threads")
            #expect(try (row * matrix).scalars == product, "row * matrix at \(threads) threads")
        }
    }

    @Test func threadCountSettingIsChecked() throws {
        let before = computeThreads
        defer { try? setComputeThreads(before) }
        #expect(throws: LoupeError.self) { try setComputeThreads(0) }
        #expect(throws: LoupeError.self) { try setComputeThreads(257) }
        try setComputeThreads(5)
        #expect(computeThreads == 5)
    }
}
