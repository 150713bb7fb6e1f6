/// Matrix product of 2-D tensors, either side optionally transposed (without materialising the
/// transpose). `a` is [m, k] (or [k, m] with `transposeA`), `b` is [k, n] (or [n, k]); result [m, n].
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    guard a.rank == 2, b.rank == 2 else {
        throw LoupeError.shapeMismatch(op: "matmul", message: "needs 2-D tensors, got \(describe(a.shape)) and \(describe(b.shape))")
    }
    let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard k == k2 else {
        let ta = transposeA ? "ᵀ" : "", tb = transposeB ? "ᵀ" : ""
        throw LoupeError.shapeMismatch(
            op: "matmul", message: "cannot multiply \(describe(a.shape))\(ta) by \(describe(b.shape))\(tb): inner dimensions \(k) and \(k2) differ")
    }
    let out = Tensor(uninitializedShape: [m, n])
    if k == 0 {
        out.storage.pointer.initialize(repeating: 0, count: m * n)
    } else {
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
             a: a.storage.pointer, b: b.storage.pointer, c: out.storage.pointer)
    }
    return Tensor.record(out, inputs: [a, b]) { backward, nodes in
        let dy = backward.dy
        if let da = backward.target(nodes[0]) {
            if transposeA {  // da [k, m] += op(b) · dyᵀ
                gemm(transposeA: transposeB, transposeB: true, m: k, n: m, k: n,
                     a: b.storage.pointer, b: dy, beta: da.beta, c: da.pointer)
            } else {         // da [m, k] += dy · op(b)ᵀ
                gemm(transposeA: false, transposeB: !transposeB, m: m, n: k, k: n,
                     a: dy, b: b.storage.pointer, beta: da.beta, c: da.pointer)
            }
        }
        if let db = backward.target(nodes[1]) {
            if transposeB {  // db [n, k] += dyᵀ · op(a)
                gemm(transposeA: true, transposeB: transposeA, m: n, n: k, k: m,
                     a: dy, b: a.storage.pointer, beta: db.beta, c: db.pointer)
            } else {         // db [k, n] += op(a)ᵀ · dy
                gemm(transposeA: !transposeA, transposeB: false, m: k, n: n, k: m,
                     a: a.storage.pointer, b: dy, beta: db.beta, c: db.pointer)
            }
        }
    }
}

extension Tensor {
    /// `matmul(self, other)`.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) throws -> Tensor {
        try LoupeCore.matmul(self, other, transposeA: transposeSelf, transposeB: transposeOther)
    }
}
