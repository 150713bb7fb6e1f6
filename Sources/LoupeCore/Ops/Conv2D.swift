/// 2-D convolution (cross-correlation, as `tf.nn.conv2d`): input [N, H, W, C], filter HWIO
/// [KH, KW, C, OC], output [N, OH, OW, OC], stride and SAME/VALID padding as TensorFlow.
///
/// Stride-1 convolutions with a multiple of 16 output channels run on the direct AVX-512 kernels
/// where the CPU has them (`ConvolutionAlgorithm`, DirectConvolution.c). Otherwise:
/// computed as im2col + GEMM, tile by tile: a tile of images has its patches copied into a
/// column matrix cols [tile·OH·OW, KH·KW·C] small enough to stay in cache, multiplied by the
/// filter [KH·KW·C, OC] into the tile's output rows. Tiles run in parallel. The backward pass
/// rebuilds each tile's columns rather than keeping them all (31 MB for conv2 at batch 50):
/// the filter gradient adds colsᵀ · dy per tile, the input gradient scatters dy · filterᵀ back
/// by col2im, and is skipped when the input needs none (images).
/// With `bias` [OC], the bias is added to each tile's output while it is still in cache (as
/// `tf.nn.bias_add` after the convolution, without a second pass over the output).
public func conv2d(_ x: Tensor, filter: Tensor, bias: Tensor? = nil, strides: (height: Int, width: Int) = (1, 1),
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
    if let bias, bias.shape != [outChannels] {
        throw LoupeError.shapeMismatch(op: "conv2d", message: "bias \(describe(bias.shape)) does not match filter \(describe(filter.shape)) (expected [\(outChannels)])")
    }
    if ConvolutionAlgorithm.useDirect(g, outChannels: outChannels) {
        return directConv2d(g, x: x, filter: filter, bias: bias, outChannels: outChannels)
    }
    let out = Tensor(uninitializedShape: [g.batch, g.outputHeight, g.outputWidth, outChannels])
    let tiles = ConvolutionTiles(g)
    let px = SendablePointer(x.storage.pointer), pw = SendablePointer(filter.storage.pointer)
    let py = SendablePointer(out.storage.pointer), pb = bias.map { SendablePointer($0.storage.pointer) }
    parallelFor(tiles.count) { tile in
        let images = tiles.images(tile)
        let rows = images.count * tiles.rowsPerImage
        let cols = Storage(uninitializedCount: rows * g.patchSize)
        im2col(g, px.pointer, cols.pointer, images: images, firstRow: 0)
        let y = py.pointer + images.lowerBound * tiles.rowsPerImage * outChannels
        gemmSerial(transposeA: false, transposeB: false, m: rows, n: outChannels, k: g.patchSize,
                   a: cols.pointer, b: pw.pointer, c: y)
        if let pb {
            for row in 0..<rows {
                let yr = y + row &* outChannels
                for j in 0..<outChannels { yr[j] += pb.pointer[j] }
            }
        }
    }
    let inputs = bias.map { [x, filter, $0] } ?? [x, filter]
    return Tensor.record(out, inputs: inputs) { backward, nodes in
        let dFilter = backward.gradient(nodes[1]), dx = backward.gradient(nodes[0])
        let dBias = nodes.count > 2 ? backward.gradient(nodes[2]) : nil
        conv2dBackward(g, tiles, x: x.storage.pointer, filter: filter.storage.pointer, dy: backward.dy,
                       dx: dx, dFilter: dFilter, dBias: dBias, outChannels: outChannels)
    }
}

/// conv2d with `bias`, then ReLU, then max-pooling over 2x2 windows with stride 2
/// (`poolPadding`): `maxPool2D(relu(conv2d(…)), …)`, the same values and gradients, in one pass
/// where the direct kernels apply (stride 1, a multiple of 16 output channels, even output
/// height and width). There the full-size convolution output is never stored, which saves its
/// memory traffic twice (ReLU and pooling would each read it); elsewhere it runs the three ops.
/// Sequential uses it for a Conv2D → ReLU → MaxPool2D run whose inner outputs nobody captures.
public func conv2dReLUMaxPool(_ x: Tensor, filter: Tensor, bias: Tensor? = nil,
                              strides: (height: Int, width: Int) = (1, 1), padding: Padding,
                              poolPadding: Padding = .same) throws -> Tensor {
    if filter.rank == 4, let g = try? WindowGeometry(op: "conv2d", inputShape: x.shape, kernel: (filter.shape[0], filter.shape[1]),
                                                     strides: strides, padding: padding),
       filter.shape[2] == g.channels, bias == nil || bias!.shape == [filter.shape[3]],
       g.outputHeight % 2 == 0, g.outputWidth % 2 == 0,
       ConvolutionAlgorithm.useDirect(g, outChannels: filter.shape[3]),
       g.batch * g.outputHeight * g.outputWidth * filter.shape[3] < Int(Int32.max) {
        return directConv2dReLUMaxPool(g, x: x, filter: filter, bias: bias, outChannels: filter.shape[3])
    }
    let convolved = try conv2d(x, filter: filter, bias: bias, strides: strides, padding: padding)
    return try maxPool2D(relu(convolved), kernel: (2, 2), strides: (2, 2), padding: poolPadding)
}

/// How a batch is cut into tiles of whole images for convolution: as many images as keep a tile's
/// columns near 1M floats (4 MB), and at least two tiles when the batch allows, so both cores work.
/// The cut depends only on the shapes, so results never depend on the thread count.
struct ConvolutionTiles {
    let batch: Int
    let imagesPerTile: Int
    let rowsPerImage: Int
    var count: Int { (batch + imagesPerTile - 1) / imagesPerTile }

    init(_ g: WindowGeometry) {
        batch = g.batch
        rowsPerImage = g.outputHeight * g.outputWidth
        let perImage = max(1, rowsPerImage * g.patchSize)
        let largest = max(1, min((1 << 20) / perImage, (g.batch + 1) / 2))
        // An even number of tiles keeps both cores busy to the end (9 tiles would leave one idle
        // for the last); then spread the images evenly over them.
        var tiles = (g.batch + largest - 1) / largest
        if tiles > 1 && tiles % 2 == 1 { tiles += 1 }
        imagesPerTile = max(1, (g.batch + tiles - 1) / tiles)
    }

    func images(_ tile: Int) -> Range<Int> {
        (tile * imagesPerTile)..<min(batch, (tile + 1) * imagesPerTile)
    }
}

/// Filter, bias and input gradients of conv2d, tile by tile. The filter gradient is summed in two
/// fixed groups of tiles (even and odd), each in tile order, then added in group order, and the
/// bias gradient by `biasGradient`: the same bits whatever the thread count.
func conv2dBackward(_ g: WindowGeometry, _ tiles: ConvolutionTiles, x: UnsafePointer<Float>, filter: UnsafePointer<Float>,
                    dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?, dFilter: UnsafeMutablePointer<Float>?,
                    dBias: UnsafeMutablePointer<Float>?, outChannels: Int) {
    let groups = min(2, tiles.count)
    let k = g.patchSize
    let partials = dFilter == nil ? nil : Storage(uninitializedCount: groups * k * outChannels)
    let px = SendablePointer(x), pw = SendablePointer(filter), pdy = SendablePointer(dy)
    let pdx = dx.map { SendablePointer($0) }, pPartials = partials.map { SendablePointer($0.pointer) }
    parallelFor(groups) { group in
        var first = true
        for tile in stride(from: group, to: tiles.count, by: groups) {
            let images = tiles.images(tile)
            let rows = images.count * tiles.rowsPerImage
            let dyTile = pdy.pointer + images.lowerBound * tiles.rowsPerImage * outChannels
            let cols = Storage(uninitializedCount: rows * k)
            if let pPartials {
                // partial [K, OC] (+)= colsᵀ [K, rows] · dy [rows, OC]
                im2col(g, px.pointer, cols.pointer, images: images, firstRow: 0)
                gemmSerial(transposeA: true, transposeB: false, m: k, n: outChannels, k: rows,
                           a: cols.pointer, b: dyTile, beta: first ? 0 : 1, c: pPartials.pointer + group * k * outChannels)
                first = false
            }
            if let pdx {
                // dcols [rows, K] = dy [rows, OC] · filterᵀ [OC, K], scattered onto dx.
                gemmSerial(transposeA: false, transposeB: true, m: rows, n: k, k: outChannels,
                           a: dyTile, b: pw.pointer, c: cols.pointer)
                col2im(g, cols.pointer, pdx.pointer, images: images, firstRow: 0)
            }
        }
    }
    if let dFilter, let partials {
        let size = k * outChannels
        for group in 0..<groups {
            let p = partials.pointer + group * size
            for i in 0..<size { dFilter[i] += p[i] }
        }
    }
    if let dBias {
        biasGradient(dy, rows: g.positions, channels: outChannels, into: dBias)
    }
}

/// dBias [C] += the column sums of dy [rows, C], in two fixed halves added in order.
func biasGradient(_ dy: UnsafePointer<Float>, rows: Int, channels: Int, into dBias: UnsafeMutablePointer<Float>) {
    let groups = min(2, rows)
    let partials = Storage(zeros: max(1, groups) * channels)
    let pdy = SendablePointer(dy), pp = SendablePointer(partials.pointer)
    parallelFor(groups) { group in
        let sums = pp.pointer + group * channels
        for row in chunkRange(group, of: groups, total: rows) {
            let d = pdy.pointer + row &* channels
            for j in 0..<channels { sums[j] += d[j] }
        }
    }
    for group in 0..<groups {
        let p = partials.pointer + group * channels
        for j in 0..<channels { dBias[j] += p[j] }
    }
}
