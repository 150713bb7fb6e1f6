#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
import CLoupeSupport

/// C = alpha · op(A) · op(B) + beta · C, row-major, computed by single-threaded BLAS calls on
/// fixed blocks of C's rows (or columns when C has few rows) run in parallel.
///
/// The split depends only on the shapes, never on the thread count, and never cuts the K sum, so
/// results are bit-identical however many threads run. Shapes: op(A) [m, k], op(B) [k, n], C [m, n];
/// A is stored [m, k] (or [k, m] when `transposeA`), B [k, n] (or [n, k] when `transposeB`).
public func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>) {
    BLAS.configure()
    if m == 0 || n == 0 { return }
    if shortGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, b: b,
                 beta: beta, c: c) {
        return
    }
    if m < 64 && n >= 4 * m && k >= 64 && 2 * m * n * k >= (1 << 21) {
        // Few rows (a dense layer at batch 50): OpenBLAS is faster on the transposed problem
        // Cᵀ = op(B)ᵀ · op(A)ᵀ, whose long side is the row dimension; transpose back after.
        let t = Storage(uninitializedCount: m * n)
        gemm(transposeA: !transposeB, transposeB: !transposeA, m: n, n: m, k: k, alpha: alpha, a: b, b: a, c: t.pointer)
        let tp = t.pointer
        for i in 0..<m {
            let row = c + i * n
            if beta == 0 {
                for j in 0..<n { row[j] = tp[j &* m &+ i] }
            } else {
                for j in 0..<n { row[j] = tp[j &* m &+ i] + beta * row[j] }
            }
        }
        return
    }
    let lda = transposeA ? m : k, ldb = transposeB ? k : n, ldc = n
    let flops = 2 * m * n * k
    // Below ~2 MFLOP a parallel split costs more than it saves.
    let parts = flops < (1 << 21) ? 1 : gemmParts
    let splitRows = m >= n || m >= parts * 16
    let pa = SendablePointer(a), pb = SendablePointer(b), pc = SendablePointer(c)
    parallelFor(parts) { part in
        if splitRows {
            let r = chunkRange(part, of: parts, total: m)
            if r.isEmpty { return }
            let aOffset = transposeA ? r.lowerBound : r.lowerBound * lda
            sgemm(transposeA, transposeB, r.count, n, k, alpha, pa.pointer + aOffset, lda,
                  pb.pointer, ldb, beta, pc.pointer + r.lowerBound * ldc, ldc)
        } else {
            let r = chunkRange(part, of: parts, total: n)
            if r.isEmpty { return }
            let bOffset = transposeB ? r.lowerBound * ldb : r.lowerBound
            sgemm(transposeA, transposeB, m, r.count, k, alpha, pa.pointer, lda,
                  pb.pointer + bOffset, ldb, beta, pc.pointer + r.lowerBound, ldc)
        }
    }
}

/// The products of a dense layer on Loupe's AVX-512 kernels (DirectConvolution.c) where the CPU
/// has them: the forward product (A · B, any number of rows) and the weight gradient at small
/// batch (a short inner dimension, Aᵀ · B). At batch 50 BLAS spends much of their time packing
/// the large operand; at batch 1000 the forward product is still a few percent faster here.
/// Split by fixed blocks of C (columns, or rows), each summed whole: the same bits on any thread
/// count. Returns false, computing nothing, for the products these kernels do not cover.
private func shortGEMM(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                       a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>) -> Bool {
    guard KernelPolicy.current.effective.products == .native, alpha == 1, beta == 0 || beta == 1, !transposeB, n % 16 == 0,
          k > 0, 2 * m * n * k >= (1 << 21), m < (1 << 30) / max(1, n) else { return false }
    let pa = SendablePointer(a), pb = SendablePointer(b), pc = SendablePointer(c)
    let accumulate: Int32 = beta == 1 ? 1 : 0
    /// Runs `kernel` on 0..<total in two halves, cut at a multiple of `block`.
    func inHalves(_ total: Int, block: Int, _ kernel: @Sendable (Int32, Int32) -> Int32) {
        let cut = min(total, ((total / 2 + block - 1) / block) * block)
        parallelFor(cut < total ? 2 : 1) { part in
            let done = part == 0 ? kernel(0, Int32(cut)) : kernel(Int32(cut), Int32(total))
            precondition(done != 0, "gemm: out of memory for a packing buffer")
        }
    }
    if !transposeA && k >= 64 {
        // Columns in two halves, cut at a multiple of 64 (the kernel's widest block).
        inHalves(n, block: 64) { start, end in
            loupe_gemm_short_rows(Int32(m), Int32(n), Int32(k), pa.pointer, pb.pointer, pc.pointer, accumulate, start, end)
        }
        return true
    }
    if transposeA && k <= 256 && m >= 64 {
        // Rows in two halves, cut at a multiple of 6 (the kernel's block of rows).
        inHalves(m, block: 6) { start, end in
            loupe_gemm_short_inner(Int32(m), Int32(n), Int32(k), pa.pointer, pb.pointer, pc.pointer, accumulate, start, end)
        }
        return true
    }
    return false
}

/// C = alpha · op(A) · op(B) + beta · C on the calling thread only: for callers that already run
/// in parallel (tiled convolution). Same layout contract as `gemm`.
public func gemmSerial(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                       alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                       beta: Float = 0, c: UnsafeMutablePointer<Float>) {
    BLAS.configure()
    if m == 0 || n == 0 { return }
    sgemm(transposeA, transposeB, m, n, k, alpha, a, transposeA ? m : k, b, transposeB ? k : n, beta, c, n)
}

/// Products are cut into this many blocks: fixed, so bits never depend on the machine's cores.
/// Two matches this project's 2-core machines; more blocks would only add overhead there.
let gemmParts = 2

@inline(__always)
private func sgemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                   _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                   _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The naive triple loop, in Double, for tests: same contract as `gemm`.
public func gemmReference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                          alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                          beta: Float = 0, c: UnsafeMutablePointer<Float>) {
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let av = transposeA ? a[p * m + i] : a[i * k + p]
                let bv = transposeB ? b[j * k + p] : b[p * n + j]
                sum += Double(av) * Double(bv)
            }
            c[i * n + j] = Float(Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(c[i * n + j])))
        }
    }
}

/// C = alpha · op(A) · op(B) + beta · C on the calling thread, with explicit row strides (leading
/// dimensions), for blocks of larger matrices: A's rows are `lda` apart (stored [m, k], or [k, m]
/// when `transposeA`), B's `ldb` ([k, n], or [n, k] when `transposeB`), C's `ldc`.
public func gemmSerial(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                       alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                       beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    BLAS.configure()
    if m == 0 || n == 0 { return }
    if k == 0 {
        for i in 0..<m {
            let row = c + i * ldc
            for j in 0..<n { row[j] = beta == 0 ? 0 : beta * row[j] }
        }
        return
    }
    sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
