import LoupeCore

/// Bilinear resampling with half-pixel centers: output pixel (y, x) samples the input at
/// ((y + 0.5) · inHeight / outHeight − 0.5, likewise for x), clamped to the edge, and mixes the
/// four neighbours. This is `tf.image.resize(method="bilinear", antialias=False)` and PyTorch's
/// `interpolate(mode="bilinear", align_corners=False)`. No area averaging: shrinking by more than
/// 2x skips input pixels, which the small ratios used here (32 → 28) never do.
///
/// The mix is computed in Float on the byte values and rounded to the nearest byte (halves away
/// from zero), clamped to 0...255: datasets hold bytes.
///
/// source: [inHeight, inWidth, channels] bytes  destination: [outHeight, outWidth, channels] bytes.
func resizeBilinear(_ source: UnsafePointer<UInt8>, height inHeight: Int, width inWidth: Int, channels: Int,
                    to destination: UnsafeMutablePointer<UInt8>, height outHeight: Int, width outWidth: Int) {
    if inHeight == outHeight && inWidth == outWidth {
        destination.update(from: source, count: inHeight * inWidth * channels)
        return
    }
    let scaleY = Float(inHeight) / Float(outHeight), scaleX = Float(inWidth) / Float(outWidth)
    let rowStride = inWidth &* channels
    for y in 0..<outHeight {
        let (y0, y1, fy) = sampleCoordinate(y, scale: scaleY, limit: inHeight)
        let row0 = source + y0 &* rowStride, row1 = source + y1 &* rowStride
        let out = destination + y &* outWidth &* channels
        for x in 0..<outWidth {
            let (x0, x1, fx) = sampleCoordinate(x, scale: scaleX, limit: inWidth)
            let a = x0 &* channels, b = x1 &* channels, o = x &* channels
            for c in 0..<channels {
                let topLeft = Float(row0[a &+ c]), topRight = Float(row0[b &+ c])
                let bottomLeft = Float(row1[a &+ c]), bottomRight = Float(row1[b &+ c])
                let top = topLeft + (topRight - topLeft) * fx
                let bottom = bottomLeft + (bottomRight - bottomLeft) * fx
                out[o &+ c] = Pixels.roundedByte(top + (bottom - top) * fy)
            }
        }
    }
}

/// The two input indices and the weight of the second for output index `index`.
@inline(__always)
private func sampleCoordinate(_ index: Int, scale: Float, limit: Int) -> (Int, Int, Float) {
    let position = min(max((Float(index) + 0.5) * scale - 0.5, 0), Float(limit - 1))
    let lower = Int(position)
    return (lower, min(lower + 1, limit - 1), position - Float(lower))
}

extension Dataset {
    /// Every image resized to `size` by bilinear resampling (see `resizeBilinear`), rounded to
    /// the nearest byte.
    public func resized(to size: ImageSize) throws -> Dataset {
        guard size.height > 0, size.width > 0 else {
            throw LoupeError.invalidArgument(name: "size", message: "resize to \(size) has an empty dimension")
        }
        let from = imageShape
        let to = ImageShape(height: size.height, width: size.width, channels: from.channels)
        if from == to { return self }
        let n = count
        if n == 0 { return try Dataset(pixels: [], labels: [], imageShape: to, classNames: classNames) }
        let resized = [UInt8](unsafeUninitializedCapacity: n * to.scalarCount) { buffer, initialized in
            let output = SendablePointer(buffer.baseAddress!)
            pixels.withUnsafeBufferPointer { source in
                let input = SendablePointer(UnsafeMutablePointer(mutating: source.baseAddress!))
                let parts = min(n, 16)
                parallelFor(parts) { part in
                    for i in chunkRange(part, of: parts, total: n) {
                        resizeBilinear(input.pointer + i * from.scalarCount, height: from.height, width: from.width,
                                       channels: from.channels, to: output.pointer + i * to.scalarCount,
                                       height: to.height, width: to.width)
                    }
                }
            }
            initialized = n * to.scalarCount
        }
        return try Dataset(pixels: resized, labels: labels, imageShape: to, classNames: classNames)
    }
}
