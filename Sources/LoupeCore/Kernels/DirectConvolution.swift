import CLoupeSupport

/// How `conv2d` computes a convolution (one half of `KernelPolicy`).
/// - `direct`: AVX-512 kernels that read the input rows in place and skip the rows of padding
///   (stride 1, output channels a multiple of 16, CPUs with AVX-512; DirectConvolution.c).
/// - `im2col`: patches copied into a column matrix and multiplied by BLAS; every case.
/// The two agree to rounding (their sums run in different orders), each is deterministic.
public enum ConvolutionAlgorithm: String, Sendable, Codable, CaseIterable {
    case direct, im2col

    /// Whether this CPU can run the direct kernels at all.
    public static let directSupported = loupe_direct_convolution_supported() != 0

    /// Runs `body` with convolutions computed by `algorithm` where it applies, and the dense
    /// products as the policy in force has them (tests and benchmarks compare the two).
    public static func with<R>(_ algorithm: ConvolutionAlgorithm, _ body: () throws -> R) rethrows -> R {
        var policy = KernelPolicy.current
        policy.convolution = algorithm
        return try policy.run(body)
    }

    /// Whether the direct kernels compute a convolution of this geometry producing `outChannels`.
    static func useDirect(_ g: WindowGeometry, outChannels: Int) -> Bool {
        guard KernelPolicy.current.effective.convolution == .direct else { return false }
        return g.strideHeight == 1 && g.strideWidth == 1 && outChannels % 16 == 0 && outChannels <= 1024
            && g.batch > 0 && g.outputHeight > 0 && g.outputWidth > 0
    }
}

/// The C kernels' argument block, carried into `parallelFor`'s workers (it holds pointers into
/// buffers that outlive the loop; each worker writes its own images or filter pieces).
struct DirectConvolutionArguments: @unchecked Sendable {
    var raw: loupe_conv_rows_args

    /// Output images `range` (loupe_conv_rows).
    func run(images range: Range<Int>) {
        withUnsafePointer(to: raw) { loupe_conv_rows($0, Int32(range.lowerBound), Int32(range.upperBound)) }
    }
}

/// A pooled buffer and the first 64-byte aligned float in it: the kernels' vector loads then never
/// straddle two cache lines (pooled buffers are only 16-byte aligned).
struct AlignedStorage: @unchecked Sendable {
    let storage: Storage
    let pointer: UnsafeMutablePointer<Float>

    init(count: Int) {
        storage = Storage(uninitializedCount: count + 16)
        let misalignment = Int(bitPattern: storage.pointer) & 63
        pointer = storage.pointer + (misalignment == 0 ? 0 : (64 - misalignment) / 4)
    }
}

/// x [N, H, W, C] copied with `left` zero columns before each row and zeros after, up to
/// `paddedWidth` columns: the direct kernels then read every window row in one run.
func paddedRows(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int,
                left: Int, paddedWidth: Int) -> AlignedStorage {
    let out = AlignedStorage(count: batch * height * paddedWidth * channels)
    let px = SendablePointer(x), po = SendablePointer(out.pointer)
    let parts = min(batch, computeThreads)
    let right = paddedWidth - left - width
    parallelFor(parts) { part in
        for n in chunkRange(part, of: parts, total: batch) {
            for row in (n * height)..<((n + 1) * height) {
                let dst = po.pointer + row * paddedWidth * channels
                dst.initialize(repeating: 0, count: left * channels)
                (dst + left * channels).update(from: px.pointer + row * width * channels, count: width * channels)
                (dst + (left + width) * channels).initialize(repeating: 0, count: right * channels)
            }
        }
    }
    return out
}

/// The input of a direct convolution, padded, and the kernels' arguments for it (`output` nil
/// for the fused op, which writes pooled rows instead).
private func directConvolution(_ g: WindowGeometry, x: Tensor, filter: Tensor, bias: Tensor?, outChannels: Int,
                               output: UnsafeMutablePointer<Float>?) -> (padded: AlignedStorage, arguments: DirectConvolutionArguments) {
    let paddedWidth = g.outputWidth - 1 + g.kernelWidth
    let xp = paddedRows(x.storage.pointer, batch: g.batch, height: g.height, width: g.width, channels: g.channels,
                        left: g.padLeft, paddedWidth: paddedWidth)
    let arguments = DirectConvolutionArguments(raw: loupe_conv_rows_args(
        input: xp.pointer, batch: Int32(g.batch), inputHeight: Int32(g.height), paddedWidth: Int32(paddedWidth),
        inputChannels: Int32(g.channels), filter: filter.storage.pointer, kernelHeight: Int32(g.kernelHeight),
        kernelWidth: Int32(g.kernelWidth), outChannels: Int32(outChannels), bias: bias.map { UnsafePointer($0.storage.pointer) },
        output: output, outputHeight: Int32(g.outputHeight), outputWidth: Int32(g.outputWidth),
        padTop: Int32(g.padTop), inputWidth: Int32(g.width), padLeft: Int32(g.padLeft), accumulate: 0))
    return (xp, arguments)
}

/// conv2d by the direct kernels (stride 1): forward now, backward when the tape runs it.
func directConv2d(_ g: WindowGeometry, x: Tensor, filter: Tensor, bias: Tensor?, outChannels: Int) -> Tensor {
    let out = Tensor(uninitializedShape: [g.batch, g.outputHeight, g.outputWidth, outChannels])
    let (xp, arguments) = directConvolution(g, x: x, filter: filter, bias: bias, outChannels: outChannels,
                                            output: out.storage.pointer)
    let parts = min(g.batch, computeThreads)
    parallelFor(parts) { part in arguments.run(images: chunkRange(part, of: parts, total: g.batch)) }

    let inputs = bias.map { [x, filter, $0] } ?? [x, filter]
    return Tensor.record(out, inputs: inputs) { backward, nodes in
        directConv2dBackward(g, arguments, padded: xp, x: x, filter: filter, dy: backward.dy, backward: backward,
                             nodes: nodes, outChannels: outChannels)
    }
}

/// conv2d (stride 1) with `bias`, then ReLU, then 2x2 max-pooling with stride 2, by the direct
/// kernels, two output rows at a time: the full-size convolution output is never stored, and the
/// backward pass needs only the pooled output and the switches. Output height and width must be
/// even (the caller checks).
func directConv2dReLUMaxPool(_ g: WindowGeometry, x: Tensor, filter: Tensor, bias: Tensor?, outChannels: Int) -> Tensor {
    let pooled = Tensor(uninitializedShape: [g.batch, g.outputHeight / 2, g.outputWidth / 2, outChannels])
    let switches = IndexBuffer(count: pooled.count)
    let (xp, arguments) = directConvolution(g, x: x, filter: filter, bias: bias, outChannels: outChannels, output: nil)
    let pp = SendablePointer(pooled.storage.pointer), ps = SendablePointer(switches.pointer)
    let parts = min(g.batch, computeThreads)
    parallelFor(parts) { part in
        let images = chunkRange(part, of: parts, total: g.batch)
        let done = withUnsafePointer(to: arguments.raw) {
            loupe_conv_relu_pool($0, Int32(images.lowerBound), Int32(images.upperBound), pp.pointer, ps.pointer)
        }
        precondition(done != 0, "conv2dReLUMaxPool: out of memory for a two-row buffer")
    }
    let inputs = bias.map { [x, filter, $0] } ?? [x, filter]
    return Tensor.record(pooled, inputs: inputs) { backward, nodes in
        defer { withExtendedLifetime((pooled, switches)) {} }
        if g.channels % 16 == 0 {
            sparseReLUMaxPoolBackward(g, arguments, padded: xp, filter: filter, pooled: pp, switches: ps,
                                      backward: backward, nodes: nodes, outChannels: outChannels)
            return
        }
        // The convolution's gradient: each window's gradient goes to its largest element when
        // that was positive (ReLU passed it), zeros elsewhere. Windows do not overlap.
        let dConv = Storage(uninitializedCount: g.batch * g.outputHeight * g.outputWidth * outChannels)
        let pdy = SendablePointer(backward.dy), pd = SendablePointer(dConv.pointer)
        parallelFor(parts) { part in
            let images = chunkRange(part, of: parts, total: g.batch)
            loupe_relu_pool_backward(pp.pointer, ps.pointer, pdy.pointer, Int32(g.outputHeight), Int32(g.outputWidth),
                                     Int32(outChannels), Int32(images.lowerBound), Int32(images.upperBound), pd.pointer)
        }
        directConv2dBackward(g, arguments, padded: xp, x: x, filter: filter, dy: dConv.pointer, backward: backward,
                             nodes: nodes, outChannels: outChannels)
    }
}

/// The gradients of the fused convolution + ReLU + max-pool from the windows' winners only
/// (loupe_pool_winners): at most a quarter of the convolution's output gradient is non-zero,
/// and the dense kernels would multiply the rest. Needs input channels in multiples of 16.
/// Each filter-gradient channel is summed by one worker, winner by winner in image order, and
/// each image's input gradient by one worker: the same bits on any thread count.
private func sparseReLUMaxPoolBackward(_ g: WindowGeometry, _ arguments: DirectConvolutionArguments, padded xp: AlignedStorage,
                                       filter: Tensor, pooled pp: SendablePointer<Float>, switches ps: SendablePointer<Int32>,
                                       backward: Backward, nodes: [Int?], outChannels: Int) {
    let (kh, kw, c, oc) = (g.kernelHeight, g.kernelWidth, g.channels, outChannels)
    let capacity = (g.outputHeight / 2) * (g.outputWidth / 2)
    let entries = g.batch * oc * capacity
    let rows = IndexBuffer(count: entries), columns = IndexBuffer(count: entries)
    let gradients = Storage(uninitializedCount: entries), counts = IndexBuffer(count: g.batch * oc)
    let pr = SendablePointer(rows.pointer), pc = SendablePointer(columns.pointer)
    let pg = SendablePointer(gradients.pointer), pn = SendablePointer(counts.pointer)
    let pdy = SendablePointer(backward.dy)
    let parts = min(g.batch, computeThreads)
    parallelFor(parts) { part in
        let images = chunkRange(part, of: parts, total: g.batch)
        loupe_pool_winners(pp.pointer, ps.pointer, pdy.pointer, Int32(g.outputHeight), Int32(g.outputWidth), Int32(oc),
                           Int32(images.lowerBound), Int32(images.upperBound), pr.pointer, pc.pointer, pg.pointer, pn.pointer)
    }
    let dFilter = backward.gradient(nodes[1])
    let dBias = nodes.count > 2 ? backward.gradient(nodes[2]) : nil
    if dFilter != nil || dBias != nil {
        let segment = kw * c
        let transposed = Storage(uninitializedCount: oc * kh * segment)
        let biasSums = Storage(uninitializedCount: oc)
        let pt = SendablePointer(transposed.pointer), pb = SendablePointer(biasSums.pointer)
        let workers = min(oc, computeThreads)
        parallelFor(workers) { part in
            let channels = chunkRange(part, of: workers, total: oc)
            withUnsafePointer(to: arguments.raw) {
                loupe_sparse_filter_gradient($0, pr.pointer, pc.pointer, pg.pointer, pn.pointer, pt.pointer, pb.pointer,
                                             Int32(channels.lowerBound), Int32(channels.upperBound))
            }
        }
        if let dFilter {
            for o in 0..<oc {
                for ky in 0..<kh {
                    let src = transposed.pointer + (o * kh + ky) * segment
                    let dst = dFilter + ky * segment * oc + o
                    for j in 0..<segment { dst[j * oc] += src[j] }
                }
            }
        }
        if let dBias {
            for o in 0..<oc { dBias[o] += biasSums.pointer[o] }
        }
    }
    if let dx = backward.gradient(nodes[0]) {
        // The filter with its output channels first: filterT[o][ky][kx·C + c].
        let filterT = AlignedStorage(count: oc * kh * kw * c)
        let w = filter.storage.pointer
        for ky in 0..<kh {
            for j in 0..<(kw * c) {
                for o in 0..<oc { filterT.pointer[(o * kh + ky) * kw * c + j] = w[(ky * kw * c + j) * oc + o] }
            }
        }
        let pf = SendablePointer(filterT.pointer), pdx = SendablePointer(dx)
        parallelFor(parts) { part in
            let images = chunkRange(part, of: parts, total: g.batch)
            let done = withUnsafePointer(to: arguments.raw) {
                loupe_sparse_input_gradient($0, pr.pointer, pc.pointer, pg.pointer, pn.pointer, pf.pointer, pdx.pointer,
                                            Int32(g.width), Int32(g.padLeft), Int32(images.lowerBound), Int32(images.upperBound))
            }
            precondition(done != 0, "conv2dReLUMaxPool: out of memory for an input-gradient scratch image")
        }
        withExtendedLifetime(filterT) {}
    }
    withExtendedLifetime((xp, rows, columns, gradients, counts)) {}
}

/// The gradients of a direct convolution whose output gradient is `dy`.
private func directConv2dBackward(_ g: WindowGeometry, _ forward: DirectConvolutionArguments, padded xp: AlignedStorage,
                                  x: Tensor, filter: Tensor, dy: UnsafePointer<Float>, backward: Backward,
                                  nodes: [Int?], outChannels: Int) {
    if let dBias = nodes.count > 2 ? backward.gradient(nodes[2]) : nil {
        biasGradient(dy, rows: g.positions, channels: outChannels, into: dBias)
    }
    if let dFilter = backward.gradient(nodes[1]) {
        let items = Int(withUnsafePointer(to: forward.raw) { loupe_conv_filter_items($0) })
        let parts = max(1, min(items, computeThreads))
        let pdy = SendablePointer(dy), pdf = SendablePointer(dFilter)
        parallelFor(parts) { part in
            withUnsafePointer(to: forward.raw) {
                loupe_conv_filter_gradient($0, pdy.pointer, pdf.pointer, Int32(part), Int32(parts))
            }
        }
    }
    if let dx = backward.gradient(nodes[0]) {
        if g.channels % 16 == 0 && g.channels <= 1024 {
            directInputGradient(g, dy: dy, filter: filter.storage.pointer, outChannels: outChannels, dx: dx)
        } else {
            conv2dBackward(g, ConvolutionTiles(g), x: x.storage.pointer, filter: filter.storage.pointer, dy: dy,
                           dx: dx, dFilter: nil, dBias: nil, outChannels: outChannels)
        }
    }
    withExtendedLifetime(xp) {}
}

/// dx += the stride-1 convolution of dy with the filter turned 180° and its channels swapped,
/// [KH, KW, OC, C], padded so that it covers every input position: conv2d's input gradient.
private func directInputGradient(_ g: WindowGeometry, dy: UnsafePointer<Float>, filter: UnsafePointer<Float>,
                                 outChannels: Int, dx: UnsafeMutablePointer<Float>) {
    let (kh, kw, c, oc) = (g.kernelHeight, g.kernelWidth, g.channels, outChannels)
    let flipped = Storage(uninitializedCount: kh * kw * oc * c)
    for ky in 0..<kh {
        for kx in 0..<kw {
            let src = filter + ((kh - 1 - ky) * kw + (kw - 1 - kx)) * c * oc
            let dst = flipped.pointer + (ky * kw + kx) * oc * c
            for i in 0..<c {
                for o in 0..<oc { dst[o * c + i] = src[i * oc + o] }
            }
        }
    }
    let paddedWidth = g.width - 1 + kw
    let dyp = paddedRows(dy, batch: g.batch, height: g.outputHeight, width: g.outputWidth, channels: oc,
                         left: kw - 1 - g.padLeft, paddedWidth: paddedWidth)
    let arguments = DirectConvolutionArguments(raw: loupe_conv_rows_args(
        input: dyp.pointer, batch: Int32(g.batch), inputHeight: Int32(g.outputHeight), paddedWidth: Int32(paddedWidth),
        inputChannels: Int32(oc), filter: flipped.pointer, kernelHeight: Int32(kh), kernelWidth: Int32(kw),
        outChannels: Int32(c), bias: nil, output: dx, outputHeight: Int32(g.height), outputWidth: Int32(g.width),
        padTop: Int32(kh - 1 - g.padTop), inputWidth: Int32(g.outputWidth), padLeft: Int32(kw - 1 - g.padLeft),
        accumulate: 1))
    let parts = min(g.batch, computeThreads)
    parallelFor(parts) { part in arguments.run(images: chunkRange(part, of: parts, total: g.batch)) }
    withExtendedLifetime((flipped, dyp)) {}
}
