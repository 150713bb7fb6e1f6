import LoupeCore
import Testing

@Suite struct GEMMTests {
    // Odd sizes, small (one BLAS call) and large enough to be split across threads, each layout.
    // (50, 1024, 100) takes the transposed path for few rows.
    @Test(arguments: [(5, 7, 3), (130, 70, 150), (9, 300, 400), (400, 9, 300), (50, 1024, 100)], [false, true])
    func matchesNaiveProduct(_ size: (Int, Int, Int), _ accumulate: Bool) {
        let (m, n, k) = size
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = random([m * k], seed: 1).scalars, b = random([k * n], seed: 2).scalars
                let start = random([m * n], seed: 3).scalars
                var c = start, reference = start
                let beta: Float = accumulate ? 1 : 0
                gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                     a: a, b: b, beta: beta, c: &c)
                gemmReference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                              a: a, b: b, beta: beta, c: &reference)
                expectClose(c, reference, absoluteTolerance: 1e-4, relativeTolerance: 1e-4)
            }
        }
    }

    @Test func blasIsConfigured() {
        let configuration = BLAS.configure()
        print("BLAS: \(configuration.library), kernels \(configuration.initialCore) → \(configuration.core)")
        #expect(!configuration.library.isEmpty)
    }
}
