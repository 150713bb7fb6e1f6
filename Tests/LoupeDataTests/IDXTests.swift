import LoupeCore
import LoupeData
import Testing

@Suite struct IDXTests {
    /// Three 2x3 images with pixels 0, 10, 20, … and labels 2, 0, 1.
    let pixels = (0..<18).map { UInt8($0 * 10) }
    let labels: [UInt8] = [2, 0, 1]

    @Test(arguments: [false, true])
    func readsWrittenFiles(compressed: Bool) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var imageBytes = idxImages(count: 3, rows: 2, columns: 3, pixels: pixels)
        var labelBytes = idxLabels(labels)
        if compressed {
            imageBytes = try Gzip.compress(imageBytes)
            labelBytes = try Gzip.compress(labelBytes)
        }
        let dataset = try Dataset.idx(images: folder.write(imageBytes, to: "images"),
                                      labels: folder.write(labelBytes, to: "labels"), classNames: ["a", "b", "c"])
        #expect(dataset.count == 3)
        #expect(dataset.imageShape == ImageShape(height: 2, width: 3, channels: 1))
        #expect(dataset.labels == [2, 0, 1])
        #expect(dataset.classNames == ["a", "b", "c"])
        #expect(dataset.pixels == pixels)
        // A batch holds byte / 255, exactly as Float division rounds it.
        #expect(dataset.batch(indices: [0, 1, 2]).images.scalars == pixels.map { Float($0) / 255 })
    }

    @Test func truncatedImages() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = try folder.write(Array(idxImages(count: 3, rows: 2, columns: 3, pixels: pixels).dropLast(4)), to: "images")
        let labels = try folder.write(idxLabels(labels), to: "labels")
        let error = fileError { _ = try Dataset.idx(images: path, labels: labels) }
        #expect(error?.path == path)
        #expect(error?.message.contains("truncated") == true)
        #expect(error?.message.contains("image 2 is incomplete") == true)
    }

    @Test func truncatedHeaderAndTrailingBytes() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let short = try folder.write([0, 0, 8], to: "short")
        #expect(fileError { _ = try IDX.readLabels(short) }?.message.contains("truncated") == true)
        let long = try folder.write(idxLabels(labels) + [7], to: "long")
        #expect(fileError { _ = try IDX.readLabels(long) }?.message.contains("1 bytes after") == true)
    }

    @Test func truncatedGzip() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let compressed = try Gzip.compress(idxImages(count: 3, rows: 2, columns: 3, pixels: pixels))
        let path = try folder.write(Array(compressed.dropLast(10)), to: "images.gz")
        let error = fileError { _ = try IDX.readImages(path) }
        #expect(error?.path == path)
    }

    @Test func wrongMagic() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // A label file where images belong, and images given a float type code (0x0D).
        let labelsAsImages = try folder.write(idxLabels(labels), to: "a")
        #expect(fileError { _ = try IDX.readImages(labelsAsImages) }?.message.contains("wrong magic number 0x00000801") == true)
        let floats = try folder.write(idxImages(count: 3, rows: 2, columns: 3, pixels: pixels, magic: 0x0D03), to: "b")
        let error = fileError { _ = try IDX.readImages(floats) }
        #expect(error?.path == floats)
        #expect(error?.message.contains("expected 0x00000803") == true)
    }

    @Test func countsDiffer() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let images = try folder.write(idxImages(count: 3, rows: 2, columns: 3, pixels: pixels), to: "images")
        let labels = try folder.write(idxLabels([1, 2]), to: "labels")
        let error = fileError { _ = try Dataset.idx(images: images, labels: labels) }
        #expect(error?.path == labels)
        #expect(error?.message.contains("2 labels for the 3 images") == true)
    }

    @Test func labelOutOfRange() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let images = try folder.write(idxImages(count: 3, rows: 2, columns: 3, pixels: pixels), to: "images")
        let labels = try folder.write(idxLabels([1, 10, 2]), to: "labels")
        let error = fileError { _ = try Dataset.idx(images: images, labels: labels) }
        #expect(error?.path == labels)
        #expect(error?.message.contains("label 10 at index 1") == true)
    }

    @Test func implausibleHeaderThrowsInsteadOfOverflowing() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let huge = try folder.write(idxImages(count: 0xFFFF_FFFF, rows: 0xFFFF, columns: 0xFFFF, pixels: []), to: "huge")
        #expect(fileError { _ = try IDX.readImages(huge) }?.message.contains("truncated") == true)
    }

    /// Debian's Fashion-MNIST, read whole. Expected values from Python (`gzip` + `struct` on the
    /// same files): label sequences, counts, and the sum of the first test image's bytes.
    @Test func fashionMNIST() throws {
        guard let folder = fashionMNISTFolder("fashionMNIST") else { return }
        let test = try Dataset.idx(images: folder + "/t10k-images-idx3-ubyte.gz", labels: folder + "/t10k-labels-idx1-ubyte.gz")
        #expect(test.count == 10_000)
        #expect(test.imageShape == ImageShape(height: 28, width: 28, channels: 1))
        #expect(Array(test.labels.prefix(10)) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
        #expect(test.classCounts == [Int](repeating: 1000, count: 10))
        let firstSum = test.pixels[0..<784].reduce(0) { $0 + Int($1) }
        #expect(firstSum == 33456)

        let train = try Dataset.idx(images: folder + "/train-images-idx3-ubyte.gz", labels: folder + "/train-labels-idx1-ubyte.gz")
        #expect(train.count == 60_000)
        #expect(Array(train.labels.prefix(10)) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
        #expect(train.classCounts == [Int](repeating: 6000, count: 10))
        #expect(test.batch(indices: Array(0..<test.count)).images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// Damaged image and label files, raw and gzip: a dataset or an error naming the file.
    @Test(arguments: [false, true])
    func damagedFilesFailNamingTheFile(compressed: Bool) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var imageBytes = idxImages(count: 3, rows: 2, columns: 3, pixels: pixels)
        var labelBytes = idxLabels(labels)
        if compressed {
            imageBytes = try Gzip.compress(imageBytes)
            labelBytes = try Gzip.compress(labelBytes)
        }
        let images = try folder.write(imageBytes, to: "images"), labels = try folder.write(labelBytes, to: "labels")
        for (k, damaged) in damagedCopies(of: imageBytes, count: 100, seed: 1).enumerated() {
            let path = try folder.write(damaged, to: "damaged-images")
            expectDatasetOrNamedError([path, labels], "images \(k)") { try Dataset.idx(images: path, labels: labels) }
        }
        for (k, damaged) in damagedCopies(of: labelBytes, count: 100, seed: 2).enumerated() {
            let path = try folder.write(damaged, to: "damaged-labels")
            expectDatasetOrNamedError([images, path], "labels \(k)") { try Dataset.idx(images: images, labels: path) }
        }
    }
}
