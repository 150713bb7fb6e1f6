/// Padding as TensorFlow defines it.
/// - `same`: output size ⌈in / stride⌉; the padding needed, max((out − 1)·stride + k − in, 0), is
///   split with the smaller half before (top/left) and the larger after.
/// - `valid`: no padding; output size ⌈(in − k + 1) / stride⌉.
public enum Padding: String, Sendable, CaseIterable {
    case same, valid
}

/// The sizes of a 2-D sliding window over an NHWC tensor: convolution and pooling share it.
public struct WindowGeometry: Sendable, Equatable {
    public let batch, height, width, channels: Int
    public let kernelHeight, kernelWidth: Int
    public let strideHeight, strideWidth: Int
    public let outputHeight, outputWidth: Int
    public let padTop, padLeft: Int

    /// Geometry of a window of `kernel` moved by `strides` over `inputShape` [N, H, W, C].
    public init(op: String, inputShape: [Int], kernel: (height: Int, width: Int),
                strides: (height: Int, width: Int), padding: Padding) throws {
        guard inputShape.count == 4 else {
            throw LoupeError.shapeMismatch(op: op, message: "input must be [N, H, W, C], got \(describe(inputShape))")
        }
        guard kernel.height > 0, kernel.width > 0, strides.height > 0, strides.width > 0 else {
            throw LoupeError.invalidArgument(
                name: op, message: "kernel \(kernel.height)x\(kernel.width) and strides \(strides.height)x\(strides.width) must be positive")
        }
        (batch, height, width, channels) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        (kernelHeight, kernelWidth) = kernel
        (strideHeight, strideWidth) = strides
        func size(_ input: Int, _ k: Int, _ s: Int) throws -> (out: Int, before: Int) {
            switch padding {
            case .same:
                let out = (input + s - 1) / s
                return (out, max((out - 1) * s + k - input, 0) / 2)
            case .valid:
                guard input >= k else {
                    throw LoupeError.shapeMismatch(
                        op: op, message: "VALID window \(kernel.height)x\(kernel.width) does not fit input \(describe(inputShape))")
                }
                return ((input - k) / s + 1, 0)
            }
        }
        (outputHeight, padTop) = try size(height, kernelHeight, strideHeight)
        (outputWidth, padLeft) = try size(width, kernelWidth, strideWidth)
    }

    public var inputShape: [Int] { [batch, height, width, channels] }
    /// Rows of the column matrix: one per output position.
    public var positions: Int { batch * outputHeight * outputWidth }
    /// Columns of the column matrix: one per filter tap, kh·kw·c.
    public var patchSize: Int { kernelHeight * kernelWidth * channels }
}

/// Copies every input patch into a row of `cols`, zeros where the window hangs over the padding.
/// Each kernel row of a patch is one contiguous run of the input (kx·c floats), copied in bulk.
// x: [n, h, w, c]  cols: [n*oh*ow, kh*kw*c]; images `images` only. With `firstRow` 0, the rows
// of `cols` start at the first of `images` (a tile's own column matrix); with nil, at image 0.
@inlinable
func im2col(_ g: WindowGeometry, _ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>, images: Range<Int>,
            firstRow: Int? = nil) {
    let (h, w, c, kh, kw) = (g.height, g.width, g.channels, g.kernelHeight, g.kernelWidth)
    let (oh, ow, sh, sw) = (g.outputHeight, g.outputWidth, g.strideHeight, g.strideWidth)
    let patch = g.patchSize, rowWidth = kw &* c
    let rowBase = firstRow == nil ? 0 : images.lowerBound
    for b in images {
        for oy in 0..<oh {
            for ox in 0..<ow {
                let row = cols + (((b &- rowBase) &* oh &+ oy) &* ow &+ ox) &* patch
                let ix0 = ox &* sw &- g.padLeft
                let kx0 = max(0, -ix0), kx1 = min(kw, w &- ix0)
                for ky in 0..<kh {
                    let dst = row + ky &* rowWidth
                    let iy = oy &* sh &- g.padTop &+ ky
                    if iy < 0 || iy >= h || kx0 >= kx1 {
                        dst.initialize(repeating: 0, count: rowWidth)
                        continue
                    }
                    if kx0 > 0 { dst.initialize(repeating: 0, count: kx0 &* c) }
                    let src = x + ((b &* h &+ iy) &* w &+ ix0 &+ kx0) &* c
                    (dst + kx0 &* c).update(from: src, count: (kx1 &- kx0) &* c)
                    if kx1 < kw { (dst + kx1 &* c).initialize(repeating: 0, count: (kw &- kx1) &* c) }
                }
            }
        }
    }
}

/// The adjoint of `im2col`: adds every row of `cols` back onto the input positions it was copied
/// from (padding taps are dropped). Accumulates into `x`.
// cols: [n*oh*ow, kh*kw*c]  x: [n, h, w, c]; images `images` only; `firstRow` as in im2col.
@inlinable
func col2im(_ g: WindowGeometry, _ cols: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, images: Range<Int>,
            firstRow: Int? = nil) {
    let (h, w, c, kh, kw) = (g.height, g.width, g.channels, g.kernelHeight, g.kernelWidth)
    let (oh, ow, sh, sw) = (g.outputHeight, g.outputWidth, g.strideHeight, g.strideWidth)
    let patch = g.patchSize, rowWidth = kw &* c
    let rowBase = firstRow == nil ? 0 : images.lowerBound
    for b in images {
        for oy in 0..<oh {
            for ox in 0..<ow {
                let row = cols + (((b &- rowBase) &* oh &+ oy) &* ow &+ ox) &* patch
                let ix0 = ox &* sw &- g.padLeft
                let kx0 = max(0, -ix0), kx1 = min(kw, w &- ix0)
                if kx0 >= kx1 { continue }
                for ky in 0..<kh {
                    let iy = oy &* sh &- g.padTop &+ ky
                    if iy < 0 || iy >= h { continue }
                    let src = row + ky &* rowWidth + kx0 &* c
                    let dst = x + ((b &* h &+ iy) &* w &+ ix0 &+ kx0) &* c
                    for i in 0..<((kx1 &- kx0) &* c) { dst[i] += src[i] }
                }
            }
        }
    }
}

/// `im2col` over all images, split across threads by image.
func im2colParallel(_ g: WindowGeometry, _ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>) {
    let px = SendablePointer(x), pc = SendablePointer(cols)
    let parts = min(g.batch, computeThreads)
    parallelFor(parts) { part in
        im2col(g, px.pointer, pc.pointer, images: chunkRange(part, of: parts, total: g.batch))
    }
}

/// `col2im` over all images, split across threads by image (images never overlap).
func col2imParallel(_ g: WindowGeometry, _ cols: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>) {
    let px = SendablePointer(x), pc = SendablePointer(cols)
    let parts = min(g.batch, computeThreads)
    parallelFor(parts) { part in
        col2im(g, pc.pointer, px.pointer, images: chunkRange(part, of: parts, total: g.batch))
    }
}
