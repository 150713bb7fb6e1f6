import Foundation
import LoupeCore

/// A geometric change of an image, about its centre: what the invariance figures of Zeiler &
/// Fergus (Fig. 5) apply to an image before measuring how the network's features move.
///
/// Resampling is exact bilinear interpolation with inverse mapping: output pixel (y, x), at
/// centre (y + ½, x + ½), takes the value of the source image at the inverse transform of that
/// point, interpolated between the four nearest source pixel centres. Border handling: source
/// pixels outside the image read as `fill` (for the figures, the data set's mean pixel), so an
/// edge blends into the fill over one pixel and an uncovered area is the fill.
public enum ImageTransform: Sendable, Equatable {
    /// Moves the content down by `pixels` (up when negative).
    case translateVertically(pixels: Double)
    /// Enlarges the content by `factor` (shrinks below 1).
    case scale(factor: Double)
    /// Turns the content by `degrees`, counter-clockwise as seen.
    case rotate(degrees: Double)

    /// The source point, relative to the centre, that output point (dy, dx) reads.
    func source(_ dy: Double, _ dx: Double) -> (Double, Double) {
        switch self {
        case let .translateVertically(pixels):
            return (dy - pixels, dx)
        case let .scale(factor):
            return (dy / factor, dx / factor)
        case let .rotate(degrees):
            // Exact at multiples of 90°, where cos and sin are 0 or ±1.
            let (c, s) = Self.cosineAndSine(degrees)
            // With y pointing down, output point (dy, dx) reads the source point turned back by
            // the angle: for 90°, the left of the output reads the top of the source.
            return (c * dy + s * dx, c * dx - s * dy)
        }
    }

    static func cosineAndSine(_ degrees: Double) -> (Double, Double) {
        let turned = degrees.truncatingRemainder(dividingBy: 360)
        let quarter = turned / 90
        if quarter == quarter.rounded() {
            switch (Int(quarter) % 4 + 4) % 4 {
            case 0: return (1, 0)
            case 1: return (0, 1)
            case 2: return (-1, 0)
            default: return (0, -1)
            }
        }
        let radians = turned * .pi / 180
        return (Foundation.cos(radians), Foundation.sin(radians))
    }

    /// The transformed image: `image` is [H, W, C] floats, `fill` the value outside it.
    public func apply(to image: Tensor, fill: Float) throws -> Tensor {
        guard image.rank == 3 else {
            throw LoupeError.shapeMismatch(op: "ImageTransform", message: "image must be [H, W, C], got \(image.shape)")
        }
        let (height, width, channels) = (image.shape[0], image.shape[1], image.shape[2])
        let centreY = Double(height) / 2, centreX = Double(width) / 2
        return image.withUnsafeBufferPointer { source in
            Tensor(shape: image.shape) { out in
                func read(_ y: Int, _ x: Int, _ c: Int) -> Double {
                    guard y >= 0, y < height, x >= 0, x < width else { return Double(fill) }
                    return Double(source[(y * width + x) * channels + c])
                }
                for y in 0..<height {
                    for x in 0..<width {
                        let (sy, sx) = self.source(Double(y) + 0.5 - centreY, Double(x) + 0.5 - centreX)
                        // Back to pixel-index coordinates: the centre of pixel (i, j) is at (i, j).
                        let py = sy + centreY - 0.5, px = sx + centreX - 0.5
                        let y0 = Int(py.rounded(.down)), x0 = Int(px.rounded(.down))
                        let fy = py - Double(y0), fx = px - Double(x0)
                        for c in 0..<channels {
                            let top = read(y0, x0, c) * (1 - fx) + read(y0, x0 + 1, c) * fx
                            let bottom = read(y0 + 1, x0, c) * (1 - fx) + read(y0 + 1, x0 + 1, c) * fx
                            // A weight of exactly 0 never reads its neighbour: integer moves are exact copies.
                            let value = fy == 0 ? top : top * (1 - fy) + bottom * fy
                            out[(y * width + x) * channels + c] = Float(value)
                        }
                    }
                }
            }
        }
    }
}
