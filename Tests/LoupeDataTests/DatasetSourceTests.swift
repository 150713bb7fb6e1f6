import Foundation
import LoupeCore
import LoupeData
import Testing

@Suite struct DatasetSourceTests {
    /// The same files named by path and through the catalog: identical pixels and labels, with
    /// the class names the catalog gives them.
    func expectSame(_ byPath: Dataset, _ byCatalog: Dataset, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(byPath.imageShape == byCatalog.imageShape, sourceLocation: sourceLocation)
        // Bools, not the arrays: a failing `==` on millions of bytes would be diffed element by element.
        let sameLabels = byPath.labels == byCatalog.labels
        #expect(sameLabels, "labels differ", sourceLocation: sourceLocation)
        let samePixels = byPath.pixels == byCatalog.pixels
        let firstDifference = zip(byPath.pixels, byCatalog.pixels).enumerated().first { $1.0 != $1.1 }?.offset
        #expect(samePixels, "pixels differ, first at byte \(String(describing: firstDifference))", sourceLocation: sourceLocation)
    }

    /// cifar10-gray28 in ../shared/data, as a folder path and as the catalog's entry.
    @Test(arguments: [DatasetSplit.train, .test])
    func folderPathAndCatalogAgree(split: DatasetSplit) throws {
        guard let root = realDataRoot("folderPathAndCatalogAgree") else { return }
        let catalog = DatasetCatalog(dataDirectory: root)
        let byPath = try DatasetSource.path(root + "/cifar10-gray28", format: .folder).load(split, catalog: catalog)
        let byCatalog = try DatasetSource.catalog("cifar10-gray28").load(split, catalog: catalog)
        #expect(byPath.count == (split == .train ? 10_000 : 1_000))
        expectSame(byPath, byCatalog)
        #expect(byPath.classNames == (0..<10).map(String.init))
        #expect(byCatalog.classNames == CIFAR10.classNames)
        // DatasetCatalog.load is the same loader.
        expectSame(byPath, try catalog.load("cifar10-gray28", split: split))
    }

    /// Debian's Fashion-MNIST, as an IDX path and as the catalog's entry (found at its system
    /// location, the data directory being empty), also widened and resized.
    @Test func idxPathAndCatalogAgree() throws {
        guard let system = fashionMNISTFolder("idxPathAndCatalogAgree") else { return }
        let empty = try TemporaryFolder()
        defer { empty.remove() }
        let catalog = DatasetCatalog(dataDirectory: empty.path)
        for split in DatasetSplit.allCases {
            let byPath = try DatasetSource.path(system, format: .idx).load(split, catalog: catalog)
            let byCatalog = try DatasetSource.catalog("fashion-mnist").load(split, catalog: catalog)
            #expect(byPath.count == (split == .train ? 60_000 : 10_000))
            expectSame(byPath, byCatalog)
            #expect(byPath.classNames == Dataset.numericClassNames(10))
            #expect(byCatalog.classNames[9] == "Ankle boot")
        }
        let size = ImageSize(height: 14, width: 14)
        let widened = try DatasetSource.path(system, format: .idx, channels: .rgb, resize: size).load(.test, catalog: catalog)
        expectSame(widened, try DatasetSource.catalog("fashion-mnist", channels: .rgb, resize: size).load(.test, catalog: catalog))
        #expect(widened.sampleShape == [14, 14, 3])
    }

    /// Written CIFAR-10 batches: the path, a catalog entry over the same folder, and the reader.
    @Test func cifar10PathAndCatalogAgree() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for (index, name) in (CIFAR10.trainingFiles + CIFAR10.testFiles).enumerated() {
            try folder.write(cifarRecord(label: UInt8(index)) + cifarRecord(label: UInt8(9 - index)), to: "data/tiny/" + name)
        }
        let entry = CatalogEntry(name: "tiny", summary: "", format: .cifar10, classNames: CIFAR10.classNames, downloads: [])
        let catalog = DatasetCatalog(dataDirectory: folder.file("data"), entries: [entry])
        for channels in [ImageChannels.automatic, .gray] {
            let byPath = try DatasetSource.path(folder.file("data/tiny"), format: .cifar10, channels: channels).load(.train, catalog: catalog)
            expectSame(byPath, try DatasetSource.catalog("tiny", channels: channels).load(.train, catalog: catalog))
            expectSame(byPath, try Dataset.cifar10(directory: folder.file("data/tiny"), split: .train, grayscale: channels == .gray))
            #expect(byPath.labels == [0, 9, 1, 8, 2, 7, 3, 6, 4, 5])
        }
    }

    /// A missing IDX file is named, with the names the format expects.
    @Test func missingIDXFileIsNamed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write(try Gzip.compress(idxImages(count: 1, rows: 2, columns: 2, pixels: [1, 2, 3, 4])),
                         to: "t10k-images-idx3-ubyte.gz")
        let source = DatasetSource.path(folder.path, format: .idx)
        let error = fileError { _ = try source.load(.test) }
        #expect(error?.path == folder.file("t10k-labels-idx1-ubyte.gz"))
        #expect(error?.message.contains("missing") == true)
        #expect(error?.message.contains("t10k-labels-idx1-ubyte") == true)

        try folder.write(idxLabels([3]), to: "t10k-labels-idx1-ubyte")  // a gunzipped copy is found too
        let test = try source.load(.test)
        #expect(test.labels == [3])
        #expect(test.pixels == [1, 2, 3, 4])
    }

    /// The experiment files' spellings of the formats.
    @Test func formatNames() {
        #expect(DatasetFormat.allCases.map(\.rawValue) == ["folder", "idx", "cifar10"])
    }

    /// A folder's format, told by what it holds: split folders, MNIST's IDX names, CIFAR-10's batches.
    @Test func formatsAreToldByTheFilesAFolderHolds() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeImageFolder(folder, split: "images/train", classes: ["0"])
        try folder.makeFolder("images/TEST")
        try folder.write(idxLabels([1]), to: "mnist/t10k-labels-idx1-ubyte.gz")
        try folder.write(cifarRecord(label: 1), to: "cifar/cifar-10-batches-bin/test_batch.bin")
        try folder.write(cifarRecord(label: 1), to: "flat/data_batch_1.bin")
        #expect(try DatasetFormat.detect(folder.file("images")) == .folder)
        #expect(try DatasetFormat.detect(folder.file("mnist")) == .idx)
        #expect(try DatasetFormat.detect(folder.file("cifar")) == .cifar10)
        #expect(try DatasetFormat.detect(folder.file("flat")) == .cifar10)
        let unknown = fileError { _ = try DatasetFormat.detect(folder.file("images/train")) }
        #expect(unknown?.path == folder.file("images/train") && unknown?.message.contains("--format") == true, "\(String(describing: unknown))")
        let missing = fileError { _ = try DatasetFormat.detect(folder.file("nowhere")) }
        #expect(missing?.message.contains("not found") == true)
    }
}
