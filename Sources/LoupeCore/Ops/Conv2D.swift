/// 2-D convolution (cross-correlation, as `tf.nn.conv2d`): input [N, H, W, C], filter HWIO
/// [KH, KW, C, OC], output [N, OH, OW, OC], stride and SAME/VALID padding as TensorFlow.
///
/// Computed as im2col + one GEMM: cols [N·OH·OW, KH·KW·C] · filter [KH·KW·C, OC]. The columns are
/// kept for the filter gradient (colsᵀ · dy); the input gradient is dy · filterᵀ scattered back by
/// col2im, and is skipped when the input needs none (images).
public func conv2d(_ x: Tensor, filter: Tensor, strides: (height: Int, width: Int) = (1, 1),
                   padding: Padding) throws -> Tensor {
    guard filter.rank == 4 else {
        throw LoupeError.shapeMismatch(op: "conv2d", message: "filter must be [KH, KW, C, OC], got \(describe(filter.shape))")
    }
    let g = try WindowGeometry(op: "conv2d", inputShape: x.shape, kernel: (filter.shape[0], filter.shape[1]),
                               strides: strides, padding: padding)
    guard filter.shape[2] == g.channels else {
        throw LoupeError.shapeMismatch(
            op: "conv2d", message: "input \(describe(x.shape)) has \(g.channels) channels but filter \(describe(filter.shape)) expects \(filter.shape[2])")
    }
    let outChannels = filter.shape[3]
    let (p, k) = (g.positions, g.patchSize)
    let cols = Storage(uninitializedCount: p * k)
    im2colParallel(g, x.storage.pointer, cols.pointer)
    let out = Tensor(uninitializedShape: [g.batch, g.outputHeight, g.outputWidth, outChannels])
    gemm(transposeA: false, transposeB: false, m: p, n: outChannels, k: k,
         a: cols.pointer, b: filter.storage.pointer, c: out.storage.pointer)
    return Tensor.record(out, inputs: [x, filter]) { backward, nodes in
        let dy = backward.dy
        if let dFilter = backward.gradient(nodes[1]) {
            // dFilter [K, OC] += colsᵀ [K, P] · dy [P, OC]
            gemm(transposeA: true, transposeB: false, m: k, n: outChannels, k: p,
                 a: cols.pointer, b: dy, beta: 1, c: dFilter)
        }
        if let dx = backward.gradient(nodes[0]) {
            // dcols [P, K] = dy [P, OC] · filterᵀ [OC, K], then scattered onto dx.
            let dcols = Storage(uninitializedCount: p * k)
            gemm(transposeA: false, transposeB: true, m: p, n: k, k: outChannels,
                 a: dy, b: filter.storage.pointer, c: dcols.pointer)
            col2imParallel(g, dcols.pointer, dx)
        }
    }
}
