import LoupeCore
import Testing

/// Loupe's own AVX-512 kernels (direct convolution, short products, the fused convolution + ReLU
/// + max-pool) against the BLAS path and finite differences. On a CPU without AVX-512 they never
/// run, and these tests are skipped.
@Suite(.enabled(if: ConvolutionAlgorithm.directSupported, "this CPU has no AVX-512: the direct kernels never run"))
struct DirectKernelTests {
    /// (input, kernel, padding, output channels): odd sizes, even kernels, a kernel larger than
    /// the image, VALID, 1x1, a wide row, channel counts that need 4 + 1 and 2 + 1 vectors, inputs
    /// whose channels are (16, 32) and are not (1, 3) a multiple of 16.
    static let cases: [(input: [Int], kernel: (Int, Int), padding: Padding, outChannels: Int)] = [
        ([2, 5, 5, 3], (3, 3), .same, 16),
        ([1, 6, 7, 16], (2, 2), .same, 32),
        ([2, 9, 8, 32], (5, 5), .same, 80),
        ([1, 7, 6, 16], (3, 2), .valid, 48),
        ([3, 4, 4, 1], (5, 5), .same, 16),
        ([1, 3, 30, 16], (1, 1), .valid, 64),
        ([2, 14, 14, 32], (5, 5), .same, 64),
    ]

    @Test(arguments: 0..<cases.count)
    func directConvolutionMatchesIm2col(_ index: Int) throws {
        let c = Self.cases[index]
        let x = random(c.input, seed: 300 + UInt64(index))
        let w = random([c.kernel.0, c.kernel.1, c.input[3], c.outChannels], seed: 310, scale: 0.5)
        let b = random([c.outChannels], seed: 320)
        let probe = try conv2d(x, filter: w, padding: c.padding)
        let seed = random(probe.shape, seed: 330)
        func run(_ algorithm: ConvolutionAlgorithm) throws -> (Tensor, [Tensor]) {
            try ConvolutionAlgorithm.with(algorithm) {
                try valueAndGradient(at: [x, w, b], seed: seed) { p in try conv2d(p[0], filter: p[1], bias: p[2], padding: c.padding) }
            }
        }
        let (direct, directGradients) = try run(.direct)
        let (reference, referenceGradients) = try run(.im2col)
        #expect(direct.shape == reference.shape)
        expectClose(direct.scalars, reference.scalars, absoluteTolerance: 1e-4, relativeTolerance: 1e-4)
        for (d, r) in zip(directGradients, referenceGradients) {
            #expect(d.shape == r.shape)
            expectClose(d.scalars, r.scalars, absoluteTolerance: 2e-4, relativeTolerance: 1e-4)
        }
    }

    @Test(arguments: [0, 1, 3, 4])
    func directConvolutionGradients(_ index: Int) throws {
        let c = Self.cases[index]
        let x = random(c.input, seed: 340 + UInt64(index))
        let w = random([c.kernel.0, c.kernel.1, c.input[3], c.outChannels], seed: 350, scale: 0.5)
        let b = random([c.outChannels], seed: 360)
        try ConvolutionAlgorithm.with(.direct) {
            try checkGradients([x, w, b]) { p in try conv2d(p[0], filter: p[1], bias: p[2], padding: c.padding) }
        }
    }

    @Test func directConvolutionGivesTheSameBitsEveryRun() throws {
        let x = random([5, 14, 14, 32], seed: 370), w = random([5, 5, 32, 64], seed: 371, scale: 0.2)
        let seed = random([5, 14, 14, 64], seed: 372)
        let first = try valueAndGradient(at: [x, w], seed: seed) { p in try conv2d(p[0], filter: p[1], padding: .same) }
        for _ in 0..<3 {
            let again = try valueAndGradient(at: [x, w], seed: seed) { p in try conv2d(p[0], filter: p[1], padding: .same) }
            #expect(again.value.scalars == first.value.scalars)
            #expect(again.gradients[0].scalars == first.gradients[0].scalars)
            #expect(again.gradients[1].scalars == first.gradients[1].scalars)
        }
    }

    /// Value and gradients (x, filter, bias) at `seed` of conv2dReLUMaxPool, and of the three ops it fuses.
    static func fusedAndSeparate(_ x: Tensor, _ w: Tensor, _ b: Tensor, padding: Padding, seed: Tensor) throws
        -> (fused: (value: Tensor, gradients: [Tensor]), separate: (value: Tensor, gradients: [Tensor])) {
        let fused = try valueAndGradient(at: [x, w, b], seed: seed) { p in
            try conv2dReLUMaxPool(p[0], filter: p[1], bias: p[2], padding: padding)
        }
        let separate = try valueAndGradient(at: [x, w, b], seed: seed) { p in
            try maxPool2D(relu(conv2d(p[0], filter: p[1], bias: p[2], padding: padding)), kernel: (2, 2),
                          strides: (2, 2), padding: .same)
        }
        return (fused, separate)
    }

    /// conv2dReLUMaxPool is maxPool2D(relu(conv2d(…))): the same values bit for bit, and the same
    /// gradients to rounding (with 16k input channels the fused backward adds the winners only,
    /// in another order; with fewer it is exact); the three ops elsewhere (odd sizes, im2col).
    @Test(arguments: [([2, 8, 6, 3], (5, 5), Padding.same, 32), ([1, 14, 14, 32], (5, 5), .same, 64),
                      ([2, 9, 7, 16], (2, 2), .valid, 16), ([1, 7, 7, 16], (3, 3), .same, 16)])
    func fusedConvolutionReLUPoolIsTheThreeOps(_ input: [Int], _ kernel: (Int, Int), _ padding: Padding, _ outChannels: Int) throws {
        let x = random(input, seed: 380), w = random([kernel.0, kernel.1, input[3], outChannels], seed: 381, scale: 0.5)
        let b = random([outChannels], seed: 382, scale: 0.3)
        let probe = try conv2dReLUMaxPool(x, filter: w, bias: b, padding: padding)
        let seed = random(probe.shape, seed: 383)
        for algorithm in ConvolutionAlgorithm.allCases {
            try ConvolutionAlgorithm.with(algorithm) {
                let (fused, separate) = try Self.fusedAndSeparate(x, w, b, padding: padding, seed: seed)
                #expect(fused.value.shape == separate.value.shape)
                #expect(fused.value.scalars == separate.value.scalars, "\(algorithm)")
                for i in 0..<3 {
                    if input[3] % 16 == 0 {
                        expectClose(fused.gradients[i].scalars, separate.gradients[i].scalars, absoluteTolerance: 1e-4)
                    } else {
                        #expect(fused.gradients[i].scalars == separate.gradients[i].scalars, "\(algorithm), gradient \(i)")
                    }
                }
            }
        }
    }

    /// Finite differences through the fused op, where they are well defined: positive inputs,
    /// filter and bias (no ReLU kink), one input channel and a 1x1 filter over distinct inputs, so
    /// that every window keeps its winner under every perturbation.
    @Test func fusedConvolutionReLUPoolGradients() throws {
        let x = try Tensor(shape: [2, 4, 6, 1], scalars: distinct([2, 4, 6, 1], seed: 386).scalars.map { $0 + 10 })
        var g = RandomGenerator(seed: 387)
        let w = Tensor.randomUniform([1, 1, 1, 16], lowerBound: 0.5, upperBound: 1, generator: &g)
        let b = Tensor.randomUniform([16], lowerBound: 0.5, upperBound: 1, generator: &g)
        try ConvolutionAlgorithm.with(.direct) {
            try checkGradients([x, w, b], relativeTolerance: 1e-2) { p in
                try conv2dReLUMaxPool(p[0], filter: p[1], bias: p[2], padding: .valid)
            }
        }
    }

    /// The same through the sparse backward (16 input channels): a 1x1 filter over inputs that
    /// are distinct and far apart channel to channel, so that every window of every output channel
    /// keeps its winner under each perturbation (the winner is the pixel with the largest
    /// channel-weighted sum, which a step of 1e-2 cannot reorder when pixels differ by ≥ 1).
    @Test func fusedConvolutionReLUPoolSparseGradients() throws {
        let pixels = 2 * 4 * 6
        var g = RandomGenerator(seed: 388)
        var order = Array(0..<pixels)
        for i in stride(from: pixels - 1, to: 0, by: -1) { order.swapAt(i, g.nextInt(below: i + 1)) }
        // Pixel p has all 16 channels near 2·rank(p) + 10: every channel's sum ranks pixels alike.
        var scalars: [Float] = []
        for p in 0..<pixels {
            for ch in 0..<16 { scalars.append(Float(2 * order[p] + 10) + Float(ch) * 0.01) }
        }
        let x = try Tensor(shape: [2, 4, 6, 16], scalars: scalars)
        let w = Tensor.randomUniform([1, 1, 16, 16], lowerBound: 0.5, upperBound: 1, generator: &g)
        let b = Tensor.randomUniform([16], lowerBound: 0.5, upperBound: 1, generator: &g)
        try ConvolutionAlgorithm.with(.direct) {
            try checkGradients([x, w, b], relativeTolerance: 1e-2) { p in
                try conv2dReLUMaxPool(p[0], filter: p[1], bias: p[2], padding: .valid)
            }
        }
    }

    /// A wider sparse case against the dense route on the same winners: 3x3 and 5x5 filters,
    /// SAME and VALID, input channels 16, 32 and 48 (row segments of 3 to 15 vectors), half the
    /// windows killed by ReLU.
    @Test(arguments: [([3, 10, 8, 16], (3, 3), Padding.same, 32), ([2, 14, 14, 32], (5, 5), .same, 64),
                      ([1, 9, 9, 48], (2, 4), .valid, 16), ([2, 6, 6, 32], (5, 5), .same, 48)])
    func sparseBackwardMatchesTheThreeOps(_ input: [Int], _ kernel: (Int, Int), _ padding: Padding, _ outChannels: Int) throws {
        let x = random(input, seed: 395), w = random([kernel.0, kernel.1, input[3], outChannels], seed: 396, scale: 0.3)
        let b = random([outChannels], seed: 397, scale: 0.5)
        let probe = try conv2dReLUMaxPool(x, filter: w, bias: b, padding: padding)
        let seed = random(probe.shape, seed: 398)
        try ConvolutionAlgorithm.with(.direct) {
            let (fused, separate) = try Self.fusedAndSeparate(x, w, b, padding: padding, seed: seed)
            #expect(fused.value.scalars == separate.value.scalars)
            for i in 0..<3 {
                expectClose(fused.gradients[i].scalars, separate.gradients[i].scalars, absoluteTolerance: 1e-4)
            }
        }
    }

    /// The products of dense layers: A · B (few rows, and many: one panel of B for all of k) and a
    /// short inner dimension (Aᵀ · B), assigning and accumulating, against the naive product.
    @Test(arguments: [(50, 1024, 100, false), (13, 48, 3000, false), (61, 1040, 70, false), (300, 64, 700, false),
                      (300, 80, 50, true), (200, 1040, 7, true)], [false, true])
    func shortProductsMatchTheNaiveProduct(_ size: (Int, Int, Int, Bool), _ accumulate: Bool) {
        let (m, n, k, transposeA) = size
        let a = random([m * k], seed: 390).scalars, b = random([k * n], seed: 391).scalars
        let start = random([m * n], seed: 392).scalars
        let beta: Float = accumulate ? 1 : 0
        var c = start, blas = start, reference = start
        gemm(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, a: a, b: b, beta: beta, c: &c)
        KernelPolicy(convolution: .im2col, products: .blas).run {
            gemm(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, a: a, b: b, beta: beta, c: &blas)
        }
        gemmReference(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, a: a, b: b, beta: beta, c: &reference)
        expectClose(c, reference, absoluteTolerance: 1e-3, relativeTolerance: 1e-4)
        expectClose(blas, reference, absoluteTolerance: 1e-3, relativeTolerance: 1e-4)
    }
}
