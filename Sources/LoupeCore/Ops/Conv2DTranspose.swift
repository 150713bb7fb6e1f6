/// The transpose (adjoint) of `conv2d` with respect to its input, as `tf.nn.conv2d_transpose`:
/// maps x [N, OH, OW, OC] to [N, H, W, C] = `outputShape` with filter HWIO [KH, KW, C, OC], where
/// OH×OW is what `conv2d` with these strides and padding makes of H×W. Deconvnet projections
/// (Zeiler & Fergus) use it to carry a feature map back towards pixel space.
///
/// Computed as cols [N·OH·OW, KH·KW·C] = x · filterᵀ, then col2im. Its input gradient is
/// `conv2d(dy, filter)`; its filter gradient is im2col(dy)ᵀ · x.
public func conv2dTranspose(_ x: Tensor, filter: Tensor, outputShape: [Int],
                            strides: (height: Int, width: Int) = (1, 1), padding: Padding) throws -> Tensor {
    guard filter.rank == 4 else {
        throw LoupeError.shapeMismatch(op: "conv2dTranspose", message: "filter must be [KH, KW, C, OC], got \(describe(filter.shape))")
    }
    let g = try WindowGeometry(op: "conv2dTranspose", inputShape: outputShape, kernel: (filter.shape[0], filter.shape[1]),
                               strides: strides, padding: padding)
    let outChannels = filter.shape[3]
    guard filter.shape[2] == g.channels,
          x.shape == [g.batch, g.outputHeight, g.outputWidth, outChannels] else {
        throw LoupeError.shapeMismatch(
            op: "conv2dTranspose",
            message: "input \(describe(x.shape)) with filter \(describe(filter.shape)) cannot make \(describe(outputShape)); expected input [\(g.batch), \(g.outputHeight), \(g.outputWidth), \(outChannels)] and \(g.channels) filter input channels")
    }
    let (p, k) = (g.positions, g.patchSize)
    let cols = Storage(uninitializedCount: p * k)
    gemm(transposeA: false, transposeB: true, m: p, n: k, k: outChannels,
         a: x.storage.pointer, b: filter.storage.pointer, c: cols.pointer)
    let out = Tensor(repeating: 0, shape: outputShape)
    col2imParallel(g, cols.pointer, out.storage.pointer)
    return Tensor.record(out, inputs: [x, filter]) { backward, nodes in
        let dcols = Storage(uninitializedCount: p * k)
        im2colParallel(g, backward.dy, dcols.pointer)
        if let dx = backward.gradient(nodes[0]) {
            // dx [P, OC] += dcols [P, K] · filter [K, OC]
            gemm(transposeA: false, transposeB: false, m: p, n: outChannels, k: k,
                 a: dcols.pointer, b: filter.storage.pointer, beta: 1, c: dx)
        }
        if let dFilter = backward.gradient(nodes[1]) {
            // dFilter [K, OC] += dcolsᵀ [K, P] · x [P, OC]
            gemm(transposeA: true, transposeB: false, m: k, n: outChannels, k: p,
                 a: dcols.pointer, b: x.storage.pointer, beta: 1, c: dFilter)
        }
    }
}
