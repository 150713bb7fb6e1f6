import LoupeCore

/// Pixel conversions shared by the readers and the transforms. Datasets keep bytes; batches
/// become Float32 as byte / 255 (exactly rounded, from a table). Color becomes gray by ITU-R
/// BT.601 luma, Y = 0.299 R + 0.587 G + 0.114 B on the stored (gamma-encoded) values, rounded to
/// a byte exactly as Pillow's `Image.convert("L")` does (see `luma`).
enum Pixels {
    /// `byteToUnit[b] == Float(b) / 255`.
    static let byteToUnit: [Float] = (0..<256).map { Float($0) / 255 }

    /// `value` rounded to the nearest integer (halves away from zero) and clamped to 0...255.
    @inline(__always)
    static func roundedByte(_ value: Float) -> UInt8 {
        UInt8(min(max(value, 0), 255).rounded())
    }

    /// The luma of one RGB pixel as Pillow's `convert("L")` computes it (its `rgb2l`), in
    /// integers: (19595 R + 38470 G + 7471 B + 32768) >> 16, the weights being 0.299, 0.587 and
    /// 0.114 times 2¹⁶ (summing to 2¹⁶). Compared with Pillow 13 on all 2²⁴ colors: equal on every
    /// one (`Tests/Fixtures/luma`), where rounding the decimal weights, (299 R + 587 G + 114 B
    /// + 500) / 1000, differs on 9,040 and Float32 arithmetic on some 8,600.
    @inline(__always)
    static func luma(_ red: UInt8, _ green: UInt8, _ blue: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: (UInt32(red) &* 19595 &+ UInt32(green) &* 38470 &+ UInt32(blue) &* 7471 &+ 32768) >> 16)
    }

    /// Interleaved pixels with `sourceChannels` (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) to
    /// `channels` (1 or 3). Alpha is dropped, as PIL's `convert` does; gray is copied to R, G, B;
    /// color becomes gray by luma, rounded. source: [pixels, sourceChannels] bytes
    /// destination: [pixels, channels] bytes.
    static func convertInterleaved(_ source: UnsafePointer<UInt8>, sourceChannels: Int, pixels: Int,
                                   channels: Int, to destination: UnsafeMutablePointer<UInt8>) {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        if sourceChannels == channels {
            destination.update(from: source, count: pixels &* channels)
            return
        }
        let colorSource = sourceChannels >= 3
        for p in 0..<pixels {
            let s = source + p &* sourceChannels
            let d = destination + p &* channels
            switch (colorSource, channels) {
            case (true, 1):
                d[0] = luma(s[0], s[1], s[2])
            case (true, _):
                d[0] = s[0]; d[1] = s[1]; d[2] = s[2]
            case (false, 1):
                d[0] = s[0]
            case (false, _):
                d[0] = s[0]; d[1] = s[0]; d[2] = s[0]
            }
        }
    }

    /// Channel-major planes (CIFAR-10's 1,024 R then G then B bytes) to HWC bytes, or to gray
    /// by luma (rounded) when `gray`. source: [3, pixels] bytes  destination: [pixels, 3] or
    /// [pixels, 1] bytes.
    static func convertPlanar(_ source: UnsafePointer<UInt8>, pixels: Int, gray: Bool,
                              to destination: UnsafeMutablePointer<UInt8>) {
        let red = source, green = source + pixels, blue = source + 2 &* pixels
        if gray {
            for p in 0..<pixels { destination[p] = luma(red[p], green[p], blue[p]) }
        } else {
            for p in 0..<pixels {
                let d = destination + 3 &* p
                d[0] = red[p]; d[1] = green[p]; d[2] = blue[p]
            }
        }
    }
}

extension Dataset {
    /// The dataset with `channels` per pixel (1 or 3): gray copied to R, G, B, or color reduced
    /// to gray by ITU-R 601 luma rounded to a byte as Pillow's `convert("L")` does (see
    /// `Pixels.luma`).
    public func converted(toChannels channels: Int) throws -> Dataset {
        guard channels == 1 || channels == 3 else {
            throw LoupeError.invalidArgument(name: "channels", message: "must be 1 or 3, got \(channels)")
        }
        let from = imageShape
        if from.channels == channels { return self }
        guard from.channels == 1 || from.channels == 3 else {
            throw LoupeError.invalidArgument(name: "channels", message: "cannot convert \(from.channels)-channel images")
        }
        let pixelCount = count * from.height * from.width
        let converted = [UInt8](unsafeUninitializedCapacity: pixelCount * channels) { buffer, initialized in
            pixels.withUnsafeBufferPointer { source in
                guard let input = source.baseAddress, let output = buffer.baseAddress else { return }
                Pixels.convertInterleaved(input, sourceChannels: from.channels, pixels: pixelCount,
                                          channels: channels, to: output)
            }
            initialized = pixelCount * channels
        }
        return try Dataset(pixels: converted, labels: labels,
                           imageShape: ImageShape(height: from.height, width: from.width, channels: channels),
                           classNames: classNames)
    }
}
