import Foundation
import LoupeData

/// A dataset of 8x8 gray images from raw bytes, in classes "0", "1", "2".
func syntheticDataset(bytes: [UInt8], labels: [Int32]) throws -> Dataset {
    try Dataset(pixels: bytes, labels: labels, imageShape: ImageShape(height: 8, width: 8, channels: 1), classNames: ["0", "1", "2"])
}

/// Writes `root/<split>/<class>/<n>.png`: `images` gray `side`x`side` PNGs per class, pixels
/// `16 * n + i` (mod 256).
func writePNGFolder(_ root: URL, split: String, classes: [String], side: Int = 4, images: Int = 3) throws {
    for name in classes {
        let folder = root.appendingPathComponent("\(split)/\(name)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for n in 0..<images {
            let png = try PNG.encode(PNGImage(width: side, height: side, channels: 1,
                                              pixels: (0..<(side * side)).map { UInt8((n * 16 + $0) % 256) }))
            try Data(png).write(to: folder.appendingPathComponent("\(n).png"))
        }
    }
}
