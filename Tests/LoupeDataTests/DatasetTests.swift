import LoupeCore
import LoupeData
import Testing

@Suite struct DatasetTests {
    /// Four 1x2x1 images: image i holds (i, i + 0.5).
    func sample() throws -> Dataset {
        try Dataset(images: [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5], labels: [1, 0, 1, 2],
                    imageShape: ImageShape(height: 1, width: 2, channels: 1), classNames: ["a", "b", "c"])
    }

    @Test func validatesItsParts() {
        let shape = ImageShape(height: 1, width: 2, channels: 1)
        #expect(throws: LoupeError.self) {
            try Dataset(images: [0, 1, 2], labels: [0, 0], imageShape: shape, classNames: ["a"])
        }
        let error = fileError { _ = try Dataset(images: [0, 1], labels: [3], imageShape: shape, classNames: ["a"], source: "x") }
        #expect(error?.path == "x")
        #expect(error?.message.contains("label 3 at index 0") == true)
    }

    @Test func batchStacksImagesNHWC() throws {
        let dataset = try sample()
        let (images, labels) = dataset.batch(indices: [3, 0, 3])
        #expect(images.shape == [3, 1, 2, 1])
        #expect(images.scalars == [3, 3.5, 0, 0.5, 3, 3.5])
        #expect(labels == [2, 1, 2])
        #expect(dataset.image(at: 2).scalars == [2, 2.5])
        #expect(dataset.image(at: 2).shape == [1, 2, 1])
    }

    @Test func subsetKeepsOrderAndNames() throws {
        let subset = try sample().subset([2, 1])
        #expect(subset.images == [2, 2.5, 1, 1.5])
        #expect(subset.labels == [1, 0])
        #expect(subset.classNames == ["a", "b", "c"])
        #expect(try sample().classCounts == [1, 2, 1])
    }

    @Test func channelConversion() throws {
        let rgb = try Dataset(images: [1, 0, 0, 0, 1, 0], labels: [0], imageShape: ImageShape(height: 1, width: 2, channels: 3),
                              classNames: ["a"]).converted(toChannels: 1)
        #expect(rgb.images == [0.299, 0.587])
        let gray = try sample().converted(toChannels: 3)
        #expect(Array(gray.images.prefix(6)) == [0, 0, 0, 0.5, 0.5, 0.5])
    }
}
