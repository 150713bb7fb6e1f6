import LoupeCore
import Testing

@Suite struct ReductionAndShapeGradientTests {
    let x = random([2, 3, 4], seed: 11)

    @Test func sumAndMean() throws {
        try checkGradients([x]) { p in sum(p[0]) }
        try checkGradients([x]) { p in mean(p[0]) }
        for axis in [0, 1, 2, -1] {
            try checkGradients([x]) { p in try sum(p[0], axis: axis) }
            try checkGradients([x]) { p in try mean(p[0], axis: axis, keepingDimension: true) }
        }
        #expect(try sum(x, axis: 1).shape == [2, 4])
        #expect(try mean(x, axis: -1, keepingDimension: true).shape == [2, 3, 1])
        let ramp = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(try sum(ramp, axis: 0).scalars == [5, 7, 9])
        #expect(try mean(ramp, axis: 1).scalars == [2, 5])
        #expect(sum(ramp).scalar == 21)
    }

    @Test func reshapeAndTranspose() throws {
        try checkGradients([x]) { p in try reshape(p[0], [4, -1]) }
        try checkGradients([random([3, 5], seed: 12)]) { p in try transpose(p[0]) }
        let t = try transpose(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        #expect(t.shape == [3, 2] && t.scalars == [1, 4, 2, 5, 3, 6])
        #expect(throws: LoupeError.self) { try reshape(x, [5, 5]) }
    }

    @Test func concatAndSlice() throws {
        let y = random([2, 1, 4], seed: 13)
        try checkGradients([x, y]) { p in try concat([p[0], p[1]], axis: 1) }
        try checkGradients([x, x]) { p in try concat([p[0], p[1]], axis: 0) }
        try checkGradients([x]) { p in try concat([p[0], p[0]], axis: -1) }
        try checkGradients([x]) { p in try slice(p[0], axis: 2, range: 1..<3) }
        try checkGradients([x]) { p in try slice(p[0], axis: 0, range: 1..<2) }
        let joined = try concat([Tensor(shape: [1, 2], scalars: [1, 2]), Tensor(shape: [1, 1], scalars: [3])], axis: 1)
        #expect(joined.scalars == [1, 2, 3])
        #expect(try slice(joined, axis: 1, range: 1..<3).scalars == [2, 3])
        #expect(throws: LoupeError.self) { try slice(x, axis: 1, range: 2..<4) }
        #expect(throws: LoupeError.self) { try concat([x, random([2, 3, 5], seed: 1)], axis: 1) }
    }

    @Test func matmulAllTranspositions() throws {
        let a = random([3, 4], seed: 14), b = random([4, 5], seed: 15)
        let aT = try transpose(a), bT = try transpose(b)
        try checkGradients([a, b]) { p in try matmul(p[0], p[1]) }
        try checkGradients([aT, b]) { p in try matmul(p[0], p[1], transposeA: true) }
        try checkGradients([a, bT]) { p in try matmul(p[0], p[1], transposeB: true) }
        try checkGradients([aT, bT]) { p in try matmul(p[0], p[1], transposeA: true, transposeB: true) }
        // One tensor on both sides of a product.
        try checkGradients([a]) { p in try matmul(p[0], p[0], transposeB: true) }
        let reference = try matmul(a, b).scalars
        expectClose(try matmul(aT, bT, transposeA: true, transposeB: true).scalars, reference)
    }

    @Test func batchOfOne() throws {
        let row = random([1, 6], seed: 16), w = random([6, 3], seed: 17), bias = random([3], seed: 18)
        try checkGradients([row, w, bias]) { p in try tanh(matmul(p[0], p[1]) + p[2]) }
    }

    @Test func twoLayerNetworkUsesItsInputTwice() throws {
        let x = random([4, 5], seed: 19), w1 = random([5, 6], seed: 20), w2 = random([6, 5], seed: 21)
        try checkGradients([x, w1, w2]) { p in
            let hidden = tanh(try matmul(p[0], p[1]))
            return try matmul(hidden, p[2]) + p[0]  // residual: x used twice
        }
    }

    @Test func gradientsOfUnusedParametersAreZero() throws {
        let a = random([2, 2], seed: 22), unused = random([3], seed: 23)
        let (value, gradients) = try valueAndGradient(at: [a, unused]) { p in sum(p[0] * 2) }
        #expect(value.scalar == sum(a * 2).scalar)
        #expect(gradients[0].scalars == [2, 2, 2, 2])
        #expect(gradients[1].scalars == [0, 0, 0])
    }

    @Test func nothingIsRecordedOutsideOrWhenAskedNotTo() throws {
        let a = random([2, 2], seed: 24)
        #expect(!(a * 2).isTracked)
        _ = try valueAndGradient(at: [a]) { p in
            #expect((p[0] * 2).isTracked)
            withoutRecording { #expect(!(p[0] * 2).isTracked) }
            return sum(p[0])
        }
        #expect(throws: LoupeError.self) { try valueAndGradient(at: [a]) { p in p[0] * 2 } }
    }
}

@Suite struct SeededGradientTests {
    @Test func seedGivesTheVectorJacobianProduct() throws {
        let x = random([2, 3], seed: 30), seed = random([2, 3], seed: 31)
        let (_, viaSeed) = try valueAndGradient(at: [x], seed: seed) { p in tanh(p[0]) }
        let (_, viaSum) = try valueAndGradient(at: [x]) { p in sum(try tanh(p[0]) * seed) }
        expectClose(viaSeed[0].scalars, viaSum[0].scalars, absoluteTolerance: 1e-6)
        #expect(throws: LoupeError.self) { try valueAndGradient(at: [x], seed: Tensor.zeros([3])) { p in p[0] * 2 } }
    }
}
