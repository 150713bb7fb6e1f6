import CPNG
import LoupeCore

/// An 8-bit image as a PNG file stores it after palette expansion: `channels` is 1 (gray),
/// 2 (gray + alpha), 3 (RGB) or 4 (RGBA), pixels interleaved row by row.
public struct PNGImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

/// PNG decoding and encoding through libpng's simplified API (`png_image`), which reads every
/// color type (gray, gray + alpha, RGB, RGBA, palette, with or without tRNS) and bit depth.
/// Images come back at 8 bits in the channels the file stores; 16-bit files go through
/// libpng's 16 → 8-bit conversion (which treats 16-bit data as linear light and encodes sRGB).
public enum PNG {
    /// Decodes the PNG file at `path`.
    public static func decode(fileAt path: String) throws -> PNGImage {
        var scratch: [UInt8] = []
        let (width, height, channels) = try decode(fileAt: path, into: &scratch)
        scratch.removeSubrange((width * height * channels)...)
        return PNGImage(width: width, height: height, channels: channels, pixels: scratch)
    }

    /// Decodes PNG bytes held in memory; `path` names them in errors.
    public static func decode(_ bytes: [UInt8], path: String = "PNG data") throws -> PNGImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let started = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard started != 0 else { throw failure(image, path: path) }
        var pixels: [UInt8] = []
        let (width, height, channels) = try finish(&image, path: path, into: &pixels)
        return PNGImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Decodes the file at `path` into `buffer`, growing it when needed, and returns the size.
    /// The folder reader keeps one buffer per worker, so 11,000 images allocate a handful of times.
    static func decode(fileAt path: String, into buffer: inout [UInt8]) throws -> (width: Int, height: Int, channels: Int) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        guard png_image_begin_read_from_file(&image, path) != 0 else { throw failure(image, path: path) }
        return try finish(&image, path: path, into: &buffer)
    }

    private static func finish(_ image: inout png_image, path: String,
                               into buffer: inout [UInt8]) throws -> (width: Int, height: Int, channels: Int) {
        let color = UInt32(PNG_FORMAT_FLAG_COLOR), alpha = UInt32(PNG_FORMAT_FLAG_ALPHA)
        // The stored channels at 8 bits: palettes expanded, 16-bit reduced.
        image.format &= color | alpha
        let channels = (image.format & color != 0 ? 3 : 1) + (image.format & alpha != 0 ? 1 : 0)
        let width = Int(image.width), height = Int(image.height)
        let (size, overflow) = (width * channels).multipliedReportingOverflow(by: height)
        guard !overflow, width > 0, height > 0, size <= 1 << 30 else {
            throw LoupeError.file(path: path, message: "corrupt PNG: implausible size \(width)x\(height)")
        }
        if buffer.count < size { buffer = [UInt8](repeating: 0, count: size) }
        let finished = buffer.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * channels), nil)
        }
        guard finished != 0 else { throw failure(image, path: path) }
        return (width, height, channels)
    }

    private static func failure(_ image: png_image, path: String) -> LoupeError {
        let detail = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return LoupeError.file(path: path, message: "corrupt or unreadable PNG: \(detail.isEmpty ? "libpng failed" : detail)")
    }

    /// Encodes 8-bit pixels with `channels` 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) as a
    /// PNG. With `palette` (RGB triples, at most 256) the pixels are one palette index each and
    /// the file is a palette PNG.
    public static func encode(_ image: PNGImage, palette: [UInt8]? = nil) throws -> [UInt8] {
        let color = UInt32(PNG_FORMAT_FLAG_COLOR), alpha = UInt32(PNG_FORMAT_FLAG_ALPHA)
        var header = png_image()
        header.version = UInt32(PNG_IMAGE_VERSION)
        header.width = UInt32(image.width)
        header.height = UInt32(image.height)
        let samplesPerPixel: Int
        if let palette {
            guard palette.count % 3 == 0, (1...256).contains(palette.count / 3) else {
                throw LoupeError.invalidArgument(name: "palette", message: "expected 1 to 256 RGB triples, got \(palette.count) bytes")
            }
            header.format = color | UInt32(PNG_FORMAT_FLAG_COLORMAP)
            header.colormap_entries = UInt32(palette.count / 3)
            samplesPerPixel = 1
        } else {
            switch image.channels {
            case 1: header.format = 0
            case 2: header.format = alpha
            case 3: header.format = color
            case 4: header.format = color | alpha
            default:
                throw LoupeError.invalidArgument(name: "channels", message: "PNG holds 1 to 4 channels, got \(image.channels)")
            }
            samplesPerPixel = image.channels
        }
        guard image.width > 0, image.height > 0, image.pixels.count == image.width * image.height * samplesPerPixel else {
            throw LoupeError.invalidArgument(name: "pixels",
                                             message: "\(image.pixels.count) bytes are not a \(image.width)x\(image.height) image of \(samplesPerPixel) samples per pixel")
        }
        defer { png_image_free(&header) }
        let stride = Int32(image.width * samplesPerPixel)
        var size = 0
        let measured = image.pixels.withUnsafeBytes { pixels in
            withOptionalBytes(palette) { png_image_write_to_memory(&header, nil, &size, 0, pixels.baseAddress, stride, $0) }
        }
        guard measured != 0 else { throw failure(header, path: "PNG encoder") }
        var output = [UInt8](repeating: 0, count: size)
        let written = image.pixels.withUnsafeBytes { pixels in
            output.withUnsafeMutableBytes { destination in
                withOptionalBytes(palette) {
                    png_image_write_to_memory(&header, destination.baseAddress, &size, 0, pixels.baseAddress, stride, $0)
                }
            }
        }
        guard written != 0 else { throw failure(header, path: "PNG encoder") }
        output.removeSubrange(size...)
        return output
    }

    private static func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBytes { body($0.baseAddress) }
    }
}
