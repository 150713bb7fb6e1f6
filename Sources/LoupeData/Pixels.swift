import LoupeCore

/// Byte-to-float conversions shared by the readers. Pixels become Float32 in [0, 1] as
/// byte / 255 (exactly rounded, from a table), and color becomes gray by ITU-R BT.601 luma,
/// Y = 0.299 R + 0.587 G + 0.114 B on the stored (gamma-encoded) values, as PIL's
/// `Image.convert("L")` and OpenCV's `COLOR_RGB2GRAY` do.
enum Pixels {
    /// `byteToUnit[b] == Float(b) / 255`.
    static let byteToUnit: [Float] = (0..<256).map { Float($0) / 255 }

    static let lumaRed: Float = 0.299
    static let lumaGreen: Float = 0.587
    static let lumaBlue: Float = 0.114

    /// source: [count] bytes  destination: [count] floats.
    static func convert(_ source: UnsafePointer<UInt8>, count: Int, to destination: UnsafeMutablePointer<Float>) {
        byteToUnit.withUnsafeBufferPointer { table in
            let lookup = table.baseAddress!
            for i in 0..<count { destination[i] = lookup[Int(source[i])] }
        }
    }

    /// Interleaved pixels with `sourceChannels` (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) to
    /// `channels` (1 or 3). Alpha is dropped, as PIL's `convert` does; gray is copied to R, G, B.
    /// source: [pixels, sourceChannels] bytes  destination: [pixels, channels] floats.
    static func convertInterleaved(_ source: UnsafePointer<UInt8>, sourceChannels: Int, pixels: Int,
                                   channels: Int, to destination: UnsafeMutablePointer<Float>) {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        let colorSource = sourceChannels >= 3
        if sourceChannels == channels {
            convert(source, count: pixels &* channels, to: destination)
            return
        }
        byteToUnit.withUnsafeBufferPointer { table in
            let lookup = table.baseAddress!
            for p in 0..<pixels {
                let s = source + p &* sourceChannels
                let d = destination + p &* channels
                switch (colorSource, channels) {
                case (true, 1):
                    d[0] = lumaRed * lookup[Int(s[0])] + lumaGreen * lookup[Int(s[1])] + lumaBlue * lookup[Int(s[2])]
                case (true, _):
                    d[0] = lookup[Int(s[0])]; d[1] = lookup[Int(s[1])]; d[2] = lookup[Int(s[2])]
                case (false, 1):
                    d[0] = lookup[Int(s[0])]
                case (false, _):
                    let gray = lookup[Int(s[0])]
                    d[0] = gray; d[1] = gray; d[2] = gray
                }
            }
        }
    }

    /// Channel-major planes (CIFAR-10's 1,024 R then G then B bytes) to HWC floats, or to gray
    /// by luma when `gray`. source: [3, pixels] bytes  destination: [pixels, 3] or [pixels, 1] floats.
    static func convertPlanar(_ source: UnsafePointer<UInt8>, pixels: Int, gray: Bool,
                              to destination: UnsafeMutablePointer<Float>) {
        byteToUnit.withUnsafeBufferPointer { table in
            let lookup = table.baseAddress!
            let red = source, green = source + pixels, blue = source + 2 &* pixels
            if gray {
                for p in 0..<pixels {
                    destination[p] = lumaRed * lookup[Int(red[p])] + lumaGreen * lookup[Int(green[p])]
                        + lumaBlue * lookup[Int(blue[p])]
                }
            } else {
                for p in 0..<pixels {
                    let d = destination + 3 &* p
                    d[0] = lookup[Int(red[p])]; d[1] = lookup[Int(green[p])]; d[2] = lookup[Int(blue[p])]
                }
            }
        }
    }
}

extension Dataset {
    /// The dataset with `channels` per pixel (1 or 3): gray copied to R, G, B, or color reduced
    /// to gray by ITU-R 601 luma (see `Pixels`).
    public func converted(toChannels channels: Int) throws -> Dataset {
        guard channels == 1 || channels == 3 else {
            throw LoupeError.invalidArgument(name: "channels", message: "must be 1 or 3, got \(channels)")
        }
        let from = imageShape
        if from.channels == channels { return self }
        guard from.channels == 1 || from.channels == 3 else {
            throw LoupeError.invalidArgument(name: "channels", message: "cannot convert \(from.channels)-channel images")
        }
        let pixels = count * from.height * from.width
        let converted = [Float](unsafeUninitializedCapacity: pixels * channels) { buffer, initialized in
            images.withUnsafeBufferPointer { source in
                guard let input = source.baseAddress, let output = buffer.baseAddress else { return }
                for p in 0..<pixels {
                    if channels == 3 {
                        let gray = input[p]
                        output[3 &* p] = gray; output[3 &* p &+ 1] = gray; output[3 &* p &+ 2] = gray
                    } else {
                        let s = input + 3 &* p
                        output[p] = Pixels.lumaRed * s[0] + Pixels.lumaGreen * s[1] + Pixels.lumaBlue * s[2]
                    }
                }
            }
            initialized = pixels * channels
        }
        return try Dataset(images: converted, labels: labels,
                           imageShape: ImageShape(height: from.height, width: from.width, channels: channels),
                           classNames: classNames)
    }
}
