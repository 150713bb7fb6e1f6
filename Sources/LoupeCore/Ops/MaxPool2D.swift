/// Where each max-pool output came from: the flat index, in the pooled input, of the element that
/// won its window. Deconvnet projections unpool through them (Zeiler & Fergus 2014).
public struct PoolSwitches: @unchecked Sendable {
    /// The pooled input's shape [N, H, W, C].
    public let inputShape: [Int]
    /// The pooled output's shape [N, OH, OW, C].
    public let outputShape: [Int]
    let buffer: IndexBuffer

    /// The switch of every output element, in the output's row-major order.
    public var indices: [Int32] { Array(UnsafeBufferPointer(start: buffer.pointer, count: buffer.count)) }
}

/// An Int32 buffer, freed with its last owner.
final class IndexBuffer: @unchecked Sendable {
    let count: Int
    let pointer: UnsafeMutablePointer<Int32>
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
    }
    deinit { pointer.deallocate() }
}

/// 2-D max pooling over NHWC (`tf.nn.max_pool2d`); padding cells never win a window.
public func maxPool2D(_ x: Tensor, kernel: (height: Int, width: Int), strides: (height: Int, width: Int),
                      padding: Padding) throws -> Tensor {
    try maxPool2DWithSwitches(x, kernel: kernel, strides: strides, padding: padding).output
}

/// `maxPool2D` that also returns the switches (argmax of every window).
public func maxPool2DWithSwitches(_ x: Tensor, kernel: (height: Int, width: Int), strides: (height: Int, width: Int),
                                  padding: Padding) throws -> (output: Tensor, switches: PoolSwitches) {
    let g = try WindowGeometry(op: "maxPool2D", inputShape: x.shape, kernel: kernel, strides: strides, padding: padding)
    guard x.count < Int(Int32.max) else {
        throw LoupeError.shapeMismatch(op: "maxPool2D", message: "input \(describe(x.shape)) has too many elements for 32-bit switches")
    }
    let outShape = [g.batch, g.outputHeight, g.outputWidth, g.channels]
    let out = Tensor(uninitializedShape: outShape)
    let switches = IndexBuffer(count: out.count)
    let px = SendablePointer(x.storage.pointer), py = SendablePointer(out.storage.pointer)
    let ps = SendablePointer(switches.pointer)
    let parts = min(g.batch, computeThreads)
    parallelFor(parts) { part in
        maxPoolForward(g, px.pointer, py.pointer, ps.pointer, images: chunkRange(part, of: parts, total: g.batch))
    }
    let perImage = g.outputHeight * g.outputWidth * g.channels
    let recorded = Tensor.record(out, input: x) { backward, dx in
        withExtendedLifetime(switches) {}  // the pullback owns the switches it reads
        let pdy = SendablePointer(backward.dy), pdx = SendablePointer(dx)
        parallelFor(parts) { part in
            scatterThroughSwitches(perImage, pdy.pointer, ps.pointer, pdx.pointer,
                                   images: chunkRange(part, of: parts, total: g.batch))
        }
    }
    return (recorded, PoolSwitches(inputShape: x.shape, outputShape: outShape, buffer: switches))
}

/// Unpooling through switches: a tensor shaped like the pooled input, zero except where a window's
/// maximum came from, which receives that window's value from `y` (summed if windows overlap).
public func unpool2D(_ y: Tensor, switches: PoolSwitches) throws -> Tensor {
    guard y.shape == switches.outputShape else {
        throw LoupeError.shapeMismatch(
            op: "unpool2D", message: "input \(describe(y.shape)) does not match the switches' pooled shape \(describe(switches.outputShape))")
    }
    let out = Tensor(repeating: 0, shape: switches.inputShape)
    let batch = y.shape[0], perImage = y.count / max(batch, 1)
    let parts = min(batch, computeThreads)
    let ps = SendablePointer(switches.buffer.pointer)
    let py = SendablePointer(y.storage.pointer), po = SendablePointer(out.storage.pointer)
    parallelFor(parts) { part in
        scatterThroughSwitches(perImage, py.pointer, ps.pointer, po.pointer, images: chunkRange(part, of: parts, total: batch))
    }
    return Tensor.record(out, input: y) { backward, dy in
        withExtendedLifetime(switches) {}
        let pdOut = SendablePointer(backward.dy), pdy = SendablePointer(dy)
        parallelFor(parts) { part in
            gatherThroughSwitches(perImage, pdOut.pointer, ps.pointer, pdy.pointer, images: chunkRange(part, of: parts, total: batch))
        }
    }
}
