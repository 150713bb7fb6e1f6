import LoupeCore
import LoupeData
import Testing

@Suite struct ResizeTests {
    func rowDataset(_ values: [UInt8]) throws -> Dataset {
        try Dataset(pixels: values, labels: [0], imageShape: ImageShape(height: 1, width: values.count, channels: 1),
                    classNames: ["0"])
    }

    /// Hand-derived with half-pixel centers (x_in = (x_out + 0.5)·scale − 0.5, clamped): shrinking
    /// [0, 40, 80, 120] to 2 samples at 0.5 and 2.5 (20, 100); growing [0, 100] to 4 samples at
    /// −0.25 → 0, 0.25, 0.75, 1.25 → 1 (0, 25, 75, 100). These are also the outputs of
    /// `tf.image.resize(..., "bilinear")` and
    /// `torch.nn.functional.interpolate(..., mode="bilinear", align_corners=False)`.
    @Test func halfPixelBilinear() throws {
        #expect(try rowDataset([0, 40, 80, 120]).resized(to: ImageSize(height: 1, width: 2)).pixels == [20, 100])
        #expect(try rowDataset([0, 100]).resized(to: ImageSize(height: 1, width: 4)).pixels == [0, 25, 75, 100])
    }

    @Test func constantImagesStayConstantInEveryChannel() throws {
        let shape = ImageShape(height: 5, width: 7, channels: 3)
        let pixels = (0..<(2 * shape.scalarCount)).map { [51, 128, 230][$0 % 3] as UInt8 }
        let dataset = try Dataset(pixels: pixels, labels: [0, 1], imageShape: shape, classNames: ["a", "b"])
        let resized = try dataset.resized(to: ImageSize(height: 3, width: 4))
        #expect(resized.imageShape == ImageShape(height: 3, width: 4, channels: 3))
        #expect(resized.labels == [0, 1])
        for (i, value) in resized.pixels.enumerated() {
            #expect(value == [51, 128, 230][i % 3])
        }
    }

    @Test func emptySizeThrows() throws {
        #expect(throws: LoupeError.self) { try rowDataset([1, 2]).resized(to: ImageSize(height: 0, width: 1)) }
    }
}
