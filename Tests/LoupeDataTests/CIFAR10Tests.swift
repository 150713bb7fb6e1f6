import Foundation
import LoupeCore
import LoupeData
import Testing

@Suite struct CIFAR10Tests {
    /// `data_batch_1…5.bin` with 2 records each and `test_batch.bin` with 3, labels cycling 0…9.
    func writeBatches(_ folder: TemporaryFolder, under subfolder: String = "") throws {
        for (index, name) in (CIFAR10.trainingFiles + CIFAR10.testFiles).enumerated() {
            let count = index < 5 ? 2 : 3
            let records = (0..<count).flatMap { cifarRecord(label: UInt8((index * 2 + $0) % 10)) }
            try folder.write(records, to: subfolder + name)
        }
    }

    @Test func readsChannelMajorRecordsAsHWC() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeBatches(folder)
        let train = try Dataset.cifar10(directory: folder.path, split: .train)
        #expect(train.count == 10)
        #expect(train.labels == (0..<10).map(Int32.init))
        #expect(train.imageShape == ImageShape(height: 32, width: 32, channels: 3))
        #expect(train.classNames[0] == "airplane" && train.classNames[9] == "truck")
        // Record 3 (label 3): pixel (y, x), channel c was written as (3·7 + 50c + 3y + x) mod 256.
        for (y, x, c) in [(0, 0, 0), (5, 7, 1), (31, 31, 2)] {
            let value = train.pixels[3 * 3072 + (y * 32 + x) * 3 + c]
            #expect(value == UInt8((21 + 50 * c + 3 * y + x) % 256))
        }
        let test = try Dataset.cifar10(directory: folder.path, split: .test)
        #expect(test.labels == [0, 1, 2])
    }

    @Test func findsTheArchiveFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeBatches(folder, under: "cifar-10-batches-bin/")
        #expect(try Dataset.cifar10(directory: folder.path, split: .test).count == 3)
    }

    @Test func grayscaleAndResize() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeBatches(folder)
        let gray = try Dataset.cifar10(directory: folder.path, split: .test, grayscale: true)
        #expect(gray.imageShape.channels == 1)
        // Record 1 (label 1), pixel (2, 4): R, G, B = 7 + 6 + 4 + (0, 50, 100) → luma by ITU-R 601
        // (57.75), rounded to a byte.
        let (r, g, b) = (17.0, 67.0, 117.0)
        let luma = (0.299 * r + 0.587 * g + 0.114 * b).rounded()
        #expect(Double(gray.pixels[1024 + 2 * 32 + 4]) == luma)

        let small = try Dataset.cifar10(directory: folder.path, split: .test, grayscale: true,
                                        resize: ImageSize(height: 28, width: 28))
        #expect(small.imageShape == ImageShape(height: 28, width: 28, channels: 1))
        #expect(small.pixels.count == 3 * 28 * 28)
    }

    @Test func truncatedBatch() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeBatches(folder)
        let path = try folder.write(cifarRecord(label: 1) + Array(cifarRecord(label: 2).prefix(100)), to: "test_batch.bin")
        let error = fileError { _ = try Dataset.cifar10(directory: folder.path, split: .test) }
        #expect(error?.path == path)
        #expect(error?.message.contains("record 1 is incomplete") == true)
    }

    @Test func labelOutOfRange() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeBatches(folder)
        let path = try folder.write(cifarRecord(label: 4) + cifarRecord(label: 12), to: "data_batch_3.bin")
        let error = fileError { _ = try Dataset.cifar10(directory: folder.path, split: .train) }
        #expect(error?.path == path)
        #expect(error?.message.contains("label 12 of record 1") == true)
    }

    @Test func missingBatch() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeBatches(folder)
        try FileManager.default.removeItem(atPath: folder.file("data_batch_5.bin"))
        #expect(fileError { _ = try Dataset.cifar10(directory: folder.path, split: .train) }?.path == folder.file("data_batch_5.bin"))
    }

    @Test func extractsTheArchive() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let members = (CIFAR10.trainingFiles + CIFAR10.testFiles).map { name in
            (name: "cifar-10-batches-bin/" + name, bytes: cifarRecord(label: 5))
        }
        let archive = try folder.write(try Gzip.compress(tarArchive(members + [(name: "cifar-10-batches-bin/readme.html", bytes: [1, 2, 3])])),
                                       to: "cifar-10-binary.tar.gz")
        try CIFAR10.extractArchive(archive, into: folder.file("out"))
        let train = try Dataset.cifar10(directory: folder.file("out"), split: .train)
        #expect(train.labels == [Int32](repeating: 5, count: 5))

        let partial = try folder.write(try Gzip.compress(tarArchive(Array(members.prefix(2)))), to: "partial.tar.gz")
        let error = fileError { try CIFAR10.extractArchive(partial, into: folder.file("other")) }
        #expect(error?.path == partial)
        #expect(error?.message.contains("test_batch.bin") == true)
    }

    /// A damaged test batch: a dataset or an error naming the file.
    @Test func damagedBatchFailsNamingTheFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeBatches(folder)
        let batch = (0..<3).flatMap { cifarRecord(label: UInt8($0)) }
        let path = folder.file("test_batch.bin")
        for (k, damaged) in damagedCopies(of: batch, count: 200, seed: 3).enumerated() {
            try folder.write(damaged, to: "test_batch.bin")
            expectDatasetOrNamedError([path], "batch \(k)") { try Dataset.cifar10(directory: folder.path, split: .test) }
        }
    }
}
