import Foundation
import LoupeCore
import LoupeData

/// A convolution layer's filters as one image: each output channel's KH×KW filter becomes a tile,
/// enlarged by nearest neighbour, and the tiles are laid out in rows with separators between them
/// (32 filters → 4 rows × 8 columns).
///
/// Filters are HWIO, `[kernelHeight, kernelWidth, inChannels, outChannels]`, as TensorFlow's. A
/// filter with 3 input channels is drawn in colour (RGB), any other count in gray (1 channel as
/// is, more as their mean). By default each filter is min–max normalised on its own, so tiles
/// show shape, not relative size (`Normalization.shared` draws size too); non-finite weights are
/// drawn black.
public struct FilterGrid: Sendable {
    public var image: PNGImage
    public var rows: Int
    public var columns: Int
    /// How many drawn values (before enlargement) were NaN or infinite.
    public var nonFiniteCount: Int

    /// Enlargement factor of each weight, in pixels.
    public static let defaultScale = 6
    /// Width of the separators between and around tiles, in pixels.
    public static let defaultSeparator = 2
    /// Separator gray level: white, the page's background.
    static let separatorLevel: UInt8 = 255

    /// Rows and columns for `count` tiles, about twice as wide as tall: 32 → 4 × 8, 64 → 6 × 12,
    /// and a single row for 1 to 3.
    public static func layout(count: Int) -> (rows: Int, columns: Int) {
        let columns = max(1, min(count, Int(Double(2 * count).squareRoot().rounded(.up))))
        return ((count + columns - 1) / columns, columns)
    }

    /// How weights become gray levels.
    public enum Normalization: Sendable, Equatable {
        /// Each filter min–max on its own: black its smallest weight, white its largest.
        case perFilter
        /// One scale for every filter: 0 is mid gray, −limit black, +limit white (clamped), so
        /// tiles, and grids drawn with the same limit, compare in size too.
        case shared(limit: Double)
    }

    /// The largest finite |weight| of `tensors`: the limit that draws them all on one scale.
    public static func sharedLimit(_ tensors: [Tensor]) -> Double {
        tensors.flatMap(\.scalars).reduce(0.0) { $1.isFinite ? max($0, Double(abs($1))) : $0 }
    }

    public init(filters: Tensor, scale: Int = defaultScale, separator: Int = defaultSeparator,
                normalization: Normalization = .perFilter) throws {
        guard filters.rank == 4, filters.shape.allSatisfy({ $0 > 0 }) else {
            throw LoupeError.invalidArgument(name: "filters", message: "expected a 4-D HWIO tensor with no empty axis, got shape \(filters.shape)")
        }
        precondition(scale > 0 && separator >= 0, "scale must be positive and separator non-negative")
        let (kernelHeight, kernelWidth, inChannels, outChannels) = (filters.shape[0], filters.shape[1], filters.shape[2], filters.shape[3])
        let channels = inChannels == 3 ? 3 : 1
        (rows, columns) = Self.layout(count: outChannels)
        let tileWidth = kernelWidth * scale, tileHeight = kernelHeight * scale
        let width = columns * tileWidth + (columns + 1) * separator
        let height = rows * tileHeight + (rows + 1) * separator
        var pixels = [UInt8](repeating: Self.separatorLevel, count: width * height * channels)
        let weights = filters.scalars
        var nonFinite = 0

        for filter in 0..<outChannels {
            // The filter's values as drawn: [kernelHeight, kernelWidth, channels].
            var values = [Double](repeating: 0, count: kernelHeight * kernelWidth * channels)
            for position in 0..<(kernelHeight * kernelWidth) {
                let base = position * inChannels * outChannels + filter
                if channels == 3 {
                    for c in 0..<3 { values[position * 3 + c] = Double(weights[base + c * outChannels]) }
                } else {
                    var sum = 0.0
                    for c in 0..<inChannels { sum += Double(weights[base + c * outChannels]) }
                    values[position] = sum / Double(inChannels)
                }
            }
            let finite = values.filter(\.isFinite)
            nonFinite += values.count - finite.count
            let low = finite.min() ?? 0, high = finite.max() ?? 0
            let levels = values.map { value -> UInt8 in
                guard value.isFinite else { return 0 }
                if case let .shared(limit) = normalization {
                    guard limit > 0 else { return 128 }
                    return UInt8(127.5 + 127.5 * min(1, max(-1, value / limit)))   // truncates: −limit 0, 0 127, +limit 255
                }
                guard high > low else { return 128 }   // a constant filter has no shape: mid gray
                return UInt8(((value - low) / (high - low) * 255).rounded())
            }
            let originX = separator + (filter % columns) * (tileWidth + separator)
            let originY = separator + (filter / columns) * (tileHeight + separator)
            for y in 0..<tileHeight {
                for x in 0..<tileWidth {
                    let source = ((y / scale) * kernelWidth + x / scale) * channels
                    let target = ((originY + y) * width + originX + x) * channels
                    for c in 0..<channels { pixels[target + c] = levels[source + c] }
                }
            }
        }
        image = PNGImage(width: width, height: height, channels: channels, pixels: pixels)
        nonFiniteCount = nonFinite
    }
}

