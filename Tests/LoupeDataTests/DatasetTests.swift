import Foundation
import LoupeCore
import LoupeData
import Testing

@Suite struct DatasetTests {
    /// Four 1x2x1 images: image i holds the bytes (10i, 10i + 5).
    func sample() throws -> Dataset {
        try Dataset(pixels: [0, 5, 10, 15, 20, 25, 30, 35], labels: [1, 0, 1, 2],
                    imageShape: ImageShape(height: 1, width: 2, channels: 1), classNames: ["a", "b", "c"])
    }

    @Test func validatesItsParts() {
        let shape = ImageShape(height: 1, width: 2, channels: 1)
        #expect(throws: LoupeError.self) {
            try Dataset(pixels: [0, 1, 2], labels: [0, 0], imageShape: shape, classNames: ["a"])
        }
        let error = fileError { _ = try Dataset(pixels: [0, 1], labels: [3], imageShape: shape, classNames: ["a"], source: "x") }
        #expect(error?.path == "x")
        #expect(error?.message.contains("label 3 at index 0") == true)
    }

    /// Batches are Float32, each element the byte / 255.
    @Test func batchStacksImagesNHWC() throws {
        let dataset = try sample()
        let (images, labels) = dataset.batch(indices: [3, 0, 3])
        #expect(images.shape == [3, 1, 2, 1])
        #expect(images.scalars == [30, 35, 0, 5, 30, 35].map { Float($0) / 255 })
        #expect(labels == [2, 1, 2])
        #expect(dataset.image(at: 2).scalars == [20, 25].map { Float($0) / 255 })
        #expect(dataset.image(at: 2).shape == [1, 2, 1])
    }

    @Test func subsetKeepsOrderAndNames() throws {
        let subset = try sample().subset([2, 1])
        #expect(subset.pixels == [20, 25, 10, 15])
        #expect(subset.labels == [1, 0])
        #expect(subset.classNames == ["a", "b", "c"])
        #expect(try sample().classCounts == [1, 2, 1])
    }

    @Test func channelConversion() throws {
        let rgb = try Dataset(pixels: [255, 0, 0, 0, 255, 0], labels: [0], imageShape: ImageShape(height: 1, width: 2, channels: 3),
                              classNames: ["a"]).converted(toChannels: 1)
        // Luma rounded to a byte: 0.299 · 255 = 76.245 → 76 and 0.587 · 255 = 149.685 → 150.
        #expect(rgb.pixels == [76, 150])
        let gray = try sample().converted(toChannels: 3)
        #expect(Array(gray.pixels.prefix(6)) == [0, 0, 0, 5, 5, 5])
    }

    @Test func sampleShapeIsHeightWidthChannels() throws {
        #expect(try sample().sampleShape == [1, 2, 1])
        #expect(try sample().converted(toChannels: 3).sampleShape == [1, 2, 3])
    }

    /// Fashion-MNIST's test images gathered as one batch, in a scrambled order: every float is
    /// the file's byte / 255. The bytes come from `IDX.readImages` (no `Dataset`), and the
    /// division is done here, not through the reader's table.
    @Test func batchIsTheIDXFilesBytesOver255() throws {
        guard let folder = fashionMNISTFolder("batchIsTheIDXFilesBytesOver255") else { return }
        let path = folder + "/t10k-images-idx3-ubyte.gz"
        let dataset = try Dataset.idx(images: path, labels: folder + "/t10k-labels-idx1-ubyte.gz")
        let file = try IDX.readImages(path)
        // 7,919 is prime, so this visits every image once.
        let indices = (0..<dataset.count).map { $0 * 7_919 % dataset.count }
        let batch = dataset.batch(indices: indices).images
        #expect(batch.shape == [10_000, 28, 28, 1])
        expectBytesOver255(batch.scalars, indices: indices, imageSize: 784) { Int(file.pixels[$0]) }
    }

    /// cifar10-gray28's test split served by a prefetching batcher: every float of every batch
    /// is the byte / 255 of the PNG it came from (decoded on its own by `PNG.decode`).
    @Test func batcherBatchesAreThePNGBytesOver255() throws {
        guard let root = realDataRoot("batcherBatchesAreThePNGBytesOver255") else { return }
        let split = root + "/cifar10-gray28/Test"
        let dataset = try Dataset.imageFolder(splitFolder: split)
        var files: [String] = []
        for name in (0..<10).map(String.init) {
            let names = try FileManager.default.contentsOfDirectory(atPath: split + "/" + name)
            files += names.filter { $0.hasSuffix(".png") }.sorted().map { split + "/" + name + "/" + $0 }
        }
        #expect(files.count == dataset.count)
        var reference: [UInt8] = []
        for file in files { reference += try PNG.decode(fileAt: file).pixels }
        let batcher = try Batcher(dataset: dataset, batchSize: 64, mode: .epochs(dropRemainder: false),
                                  generator: RandomGenerator(seed: 3), prefetch: true)
        var seen = 0
        while seen < dataset.count {
            let batch = batcher.next()
            expectBytesOver255(batch.images.scalars, indices: batch.indices, imageSize: 784) { Int(reference[$0]) }
            seen += batch.indices.count
        }
    }

    /// Element by element: `floats[row · size + i] == Float(byte(indices[row] · size + i)) / 255`,
    /// recording the count and the first mismatch.
    func expectBytesOver255(_ floats: [Float], indices: [Int], imageSize: Int, byte: (Int) -> Int,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(floats.count == indices.count * imageSize, sourceLocation: sourceLocation)
        var mismatches = 0
        var first: (row: Int, element: Int, found: Float, expected: Float)?
        for (row, index) in indices.enumerated() {
            for i in 0..<imageSize {
                let expected = Float(byte(index * imageSize + i)) / 255
                let found = floats[row * imageSize + i]
                if found.bitPattern != expected.bitPattern {
                    mismatches += 1
                    if first == nil { first = (row, i, found, expected) }
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) floats differ; first: \(String(describing: first))",
                sourceLocation: sourceLocation)
    }
}

@Suite struct DatasetRowsTests {
    @Test func readingRowsKeepsTheBytesAndChangesTheShape() throws {
        let pixels = (0..<(2 * 3 * 4 * 2)).map { UInt8($0) }
        let images = try Dataset(pixels: pixels, labels: [0, 1], imageShape: ImageShape(height: 3, width: 4, channels: 2),
                                 classNames: ["a", "b"])
        let rows = images.readingRows()
        #expect(images.sampleShape == [3, 4, 2])
        #expect(rows.sampleShape == [3, 8])
        let (a, _) = images.batch(indices: [1, 0])
        let (b, _) = rows.batch(indices: [1, 0])
        #expect(b.shape == [2, 3, 8])
        #expect(a.scalars == b.scalars)
        #expect(rows.subset([1]).sampleShape == [3, 8])
    }
}
