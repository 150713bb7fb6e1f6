import LoupeData

/// A dataset of 8x8 gray images from raw bytes, in classes "0", "1", "2".
func syntheticDataset(bytes: [UInt8], labels: [Int32]) throws -> Dataset {
    try Dataset(pixels: bytes, labels: labels, imageShape: ImageShape(height: 8, width: 8, channels: 1), classNames: ["0", "1", "2"])
}
