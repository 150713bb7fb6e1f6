import Foundation
import LoupeCore
import LoupeData

/// An RGB picture made of tiles, each enlarged by nearest neighbour: the grids of projections,
/// patches, feature maps and heat maps the inspection writes as PNG.
struct Canvas {
    let width: Int
    let height: Int
    var pixels: [UInt8]

    static let background: (UInt8, UInt8, UInt8) = (255, 255, 255)
    /// Where a receptive field reaches past the image (into the padding).
    static let outside: (UInt8, UInt8, UInt8) = (196, 214, 238)

    init(width: Int, height: Int) {
        self.width = max(width, 1)
        self.height = max(height, 1)
        pixels = [UInt8](repeating: 255, count: self.width * self.height * 3)
    }

    /// Draws `tile` with its top-left corner at (x, y), each of its pixels a `scale`×`scale` block.
    mutating func draw(_ tile: Tile, x: Int, y: Int, scale: Int) {
        for ty in 0..<tile.height {
            for tx in 0..<tile.width {
                let source = (ty * tile.width + tx) * 3
                for dy in 0..<scale {
                    let py = y + ty * scale + dy
                    guard py >= 0 && py < height else { continue }
                    for dx in 0..<scale {
                        let px = x + tx * scale + dx
                        guard px >= 0 && px < width else { continue }
                        let target = (py * width + px) * 3
                        pixels[target] = tile.rgb[source]
                        pixels[target + 1] = tile.rgb[source + 1]
                        pixels[target + 2] = tile.rgb[source + 2]
                    }
                }
            }
        }
    }

    var image: PNGImage { PNGImage(width: width, height: height, channels: 3, pixels: pixels) }
    func png() throws -> [UInt8] { try PNG.encode(image) }
}

/// A small RGB picture.
struct Tile {
    let width: Int
    let height: Int
    var rgb: [UInt8]

    /// An [H, W, C] image of values in 0…1 (C = 1 gray, 3 colour, else the channels' mean),
    /// cropped to `rows` × `columns`; cells outside the image are drawn in `Canvas.outside`.
    static func image(_ image: Tensor, rows: Range<Int>? = nil, columns: Range<Int>? = nil) -> Tile {
        let (h, w) = (image.shape[0], image.shape[1])
        return map(image, rows: rows ?? 0..<h, columns: columns ?? 0..<w) { min(max($0, 0), 1) }
    }

    /// A projection drawn as every projection is: each value v becomes ½ + ½·v / m, with m the
    /// largest |v| in the tile, so zero is mid-gray, the strongest positive value white and its
    /// negative black (colour channels alike for colour inputs). An all-zero tile is mid-gray.
    static func projection(_ projection: Tensor, rows: Range<Int>? = nil, columns: Range<Int>? = nil) -> Tile {
        let (h, w) = (projection.shape[0], projection.shape[1])
        let rows = rows ?? 0..<h, columns = columns ?? 0..<w
        var largest: Float = 0
        projection.withUnsafeBufferPointer { values in
            let c = projection.shape[2]
            for y in rows.clamped(to: 0..<h) {
                for x in columns.clamped(to: 0..<w) {
                    for k in 0..<c where values[(y * w + x) * c + k].isFinite { largest = max(largest, abs(values[(y * w + x) * c + k])) }
                }
            }
        }
        let scale = largest > 0 ? 0.5 / largest : 0
        return map(projection, rows: rows, columns: columns) { 0.5 + $0 * scale }
    }

    /// One feature map [H, W] (channel `channel` of an [H, W, C] tensor) on the scale 0…`top`,
    /// black to white (negative values black).
    static func featureMap(_ maps: Tensor, channel: Int, top: Float) -> Tile {
        let (h, w, c) = (maps.shape[0], maps.shape[1], maps.shape[2])
        var rgb = [UInt8](repeating: 0, count: h * w * 3)
        maps.withUnsafeBufferPointer { values in
            for i in 0..<(h * w) {
                let v = top > 0 ? values[i * c + channel] / top : 0
                let byte = UInt8(min(max(v, 0), 1) * 255 + 0.5)
                (rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]) = (byte, byte, byte)
            }
        }
        return Tile(width: w, height: h, rgb: rgb)
    }

    /// Values [H, W] through a colour map, `range` mapped to its two ends.
    static func heatMap(_ values: [Float], height: Int, width: Int, range: ClosedRange<Float>) -> Tile {
        var rgb = [UInt8](repeating: 0, count: height * width * 3)
        let span = range.upperBound - range.lowerBound
        for i in 0..<(height * width) {
            let t = span > 0 ? (values[i] - range.lowerBound) / span : 0.5
            let (r, g, b) = ColourMap.viridis(Double(t))
            (rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]) = (r, g, b)
        }
        return Tile(width: width, height: height, rgb: rgb)
    }

    /// Class indices [H, W] in the categorical palette.
    static func classes(_ labels: [Int], height: Int, width: Int) -> Tile {
        var rgb = [UInt8](repeating: 0, count: height * width * 3)
        for i in 0..<(height * width) {
            let (r, g, b) = ColourMap.category(labels[i])
            (rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]) = (r, g, b)
        }
        return Tile(width: width, height: height, rgb: rgb)
    }

    private static func map(_ image: Tensor, rows: Range<Int>, columns: Range<Int>, _ f: (Float) -> Float) -> Tile {
        let (h, w, c) = (image.shape[0], image.shape[1], image.shape[2])
        var rgb = [UInt8](repeating: 0, count: rows.count * columns.count * 3)
        image.withUnsafeBufferPointer { values in
            for (ty, y) in rows.enumerated() {
                for (tx, x) in columns.enumerated() {
                    let target = (ty * columns.count + tx) * 3
                    guard y >= 0 && y < h && x >= 0 && x < w else {
                        (rgb[target], rgb[target + 1], rgb[target + 2]) = Canvas.outside
                        continue
                    }
                    func byte(_ v: Float) -> UInt8 { v.isFinite ? UInt8(min(max(f(v), 0), 1) * 255 + 0.5) : 0 }
                    let base = (y * w + x) * c
                    if c == 3 {
                        (rgb[target], rgb[target + 1], rgb[target + 2]) = (byte(values[base]), byte(values[base + 1]), byte(values[base + 2]))
                    } else {
                        var sum: Float = 0
                        for k in 0..<c { sum += values[base + k] }
                        let gray = byte(sum / Float(c))
                        (rgb[target], rgb[target + 1], rgb[target + 2]) = (gray, gray, gray)
                    }
                }
            }
        }
        return Tile(width: columns.count, height: rows.count, rgb: rgb)
    }
}

/// Colours for heat maps (a perceptually even dark-blue-to-yellow map in the manner of
/// matplotlib's viridis, interpolated between nine of its colours) and for classes.
enum ColourMap {
    static let viridisStops: [(Double, Double, Double)] = [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ]

    static func viridis(_ t: Double) -> (UInt8, UInt8, UInt8) {
        let t = t.isFinite ? min(max(t, 0), 1) : 0
        let position = t * Double(viridisStops.count - 1)
        let i = min(Int(position), viridisStops.count - 2), f = position - Double(i)
        let a = viridisStops[i], b = viridisStops[i + 1]
        func mix(_ x: Double, _ y: Double) -> UInt8 { UInt8(x + (y - x) * f + 0.5) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    static func viridisHex(_ t: Double) -> String {
        let (r, g, b) = viridis(t)
        return String(format: "#%02x%02x%02x", r, g, b)
    }

    /// The report's line colours (Tableau 10, then golden-angle hues).
    static func category(_ index: Int) -> (UInt8, UInt8, UInt8) {
        let value = UInt32(TrialCurves.color(index).dropFirst(), radix: 16) ?? 0
        return (UInt8(value >> 16), UInt8((value >> 8) & 255), UInt8(value & 255))
    }

    static func categoryHex(_ index: Int) -> String { TrialCurves.color(index) }
}
