import Foundation
import LoupeCore
import LoupeData
import Testing

/// cifar10-gray28 derived from a small synthetic CIFAR-10: 5 training batches of 5 records
/// (record k has label 3k mod 10, so classes 0, 2, 3, 6 and 9 hold 3 images, the others two) and a test batch of
/// 12 (label 7k mod 10), taking 2 training and 1 test image per class.
@Suite struct DerivationTests {
    static let trainLabels = (0..<25).map { UInt8($0 * 3 % 10) }
    static let testLabels = (0..<12).map { UInt8($0 * 7 % 10) }

    /// Record `id` of a split: red 8x, green 4y and blue 9·id (+ 1 in the test split), so every
    /// record differs and each pixel's luma can be worked out by hand.
    static func record(label: UInt8, id: Int, test: Bool) -> [UInt8] {
        var record = [label]
        for c in 0..<3 {
            for y in 0..<32 {
                for x in 0..<32 { record.append(UInt8([8 * x, 4 * y, 9 * id + (test ? 1 : 0)][c])) }
            }
        }
        return record
    }

    static func batches() -> [(name: String, bytes: [UInt8])] {
        let training = CIFAR10.trainingFiles.enumerated().map { batch, name in
            (name: name, bytes: (5 * batch..<5 * batch + 5).flatMap { record(label: trainLabels[$0], id: $0, test: false) })
        }
        let test = (name: CIFAR10.testFiles[0],
                    bytes: testLabels.indices.flatMap { record(label: testLabels[$0], id: $0, test: true) })
        return training + [test]
    }

    static func archive() throws -> [UInt8] {
        try Gzip.compress(tarArchive(batches().map { (name: CIFAR10.archiveFolder + "/" + $0.name, bytes: $0.bytes) }))
    }

    /// The standard cifar10 entry (with `archiveSum` as its archive's published sum, when given)
    /// and cifar10-gray28 taking `train` and `test` images per class.
    static func catalog(_ folder: TemporaryFolder, archiveSum: String? = nil, train: Int = 2, test: Int = 1) throws -> DatasetCatalog {
        let standard = DatasetCatalog(dataDirectory: "/nowhere")
        var cifar10 = try standard.entry(named: "cifar10")
        if let archiveSum {
            cifar10.downloads = [CatalogFile(name: "cifar-10-binary.tar.gz", urls: ["http://127.0.0.1:9/cifar-10-binary.tar.gz"],
                                             sha256: archiveSum)]
        }
        var gray = try standard.entry(named: "cifar10-gray28")
        #expect(gray.derivation == Derivation(source: "cifar10", trainPerClass: 1000, testPerClass: 100,
                                              resize: ImageSize(height: 28, width: 28)))
        gray.derivation?.trainPerClass = train
        gray.derivation?.testPerClass = test
        return DatasetCatalog(dataDirectory: folder.path, entries: [cifar10, gray])
    }

    static func writeExtracted(_ folder: TemporaryFolder) throws {
        for (name, bytes) in batches() { try folder.write(bytes, to: "cifar10/cifar-10-batches-bin/" + name) }
    }

    /// Pillow's `convert("L")` (checked against Pillow by `PixelsTests`).
    static func luma(_ r: Int, _ g: Int, _ b: Int) -> Int { (19595 * r + 38470 * g + 7471 * b + 32768) >> 16 }

    /// The derived image of a record, computed here in Double from the documented recipe: luma
    /// of each 32x32 pixel, then bilinear with half-pixel centers, position (i + 0.5) · 32/28 −
    /// 0.5 = (16i + 1)/14, rounded half away from zero. At an exact half the library's Float
    /// positions may round either way, so those pixels come back as nil (either byte is right).
    static func expectedImage(id: Int, test: Bool) -> [Int?] {
        let blue = 9 * id + (test ? 1 : 0)
        let gray = (0..<32).map { y in (0..<32).map { x in Double(luma(8 * x, 4 * y, blue)) } }
        func sample(_ i: Int) -> (Int, Int, Double) {
            let position = Double(16 * i + 1) / 14
            let lower = Int(position)
            return (lower, min(lower + 1, 31), position - Double(lower))
        }
        var out: [Int?] = []
        for y in 0..<28 {
            let (y0, y1, fy) = sample(y)
            for x in 0..<28 {
                let (x0, x1, fx) = sample(x)
                let top = gray[y0][x0] + (gray[y0][x1] - gray[y0][x0]) * fx
                let bottom = gray[y1][x0] + (gray[y1][x1] - gray[y1][x0]) * fx
                let value = top + (bottom - top) * fy
                let tie = abs(value - value.rounded(.down) - 0.5) < 1e-9
                out.append(tie ? nil : Int(value.rounded()))
            }
        }
        return out
    }

    /// A folder's names, recursively, hidden ones included, without its `cifar10` source.
    static func derivedFiles(_ folder: TemporaryFolder) -> [String] {
        folder.contents().filter { !$0.hasPrefix("cifar10/") && $0 != "cifar10" }
    }

    static let expectedLayout: [String] = ["cifar10-gray28", "cifar10-gray28/Test"]
        + (0..<10).flatMap { ["cifar10-gray28/Test/\($0)", "cifar10-gray28/Test/\($0)/Image00000.png"] }
        + ["cifar10-gray28/Train"]
        + (0..<10).flatMap { ["cifar10-gray28/Train/\($0)", "cifar10-gray28/Train/\($0)/Image00000.png", "cifar10-gray28/Train/\($0)/Image00001.png"] }

    @Test func derivesTheFirstImagesOfEachClassAsGray28PNGs() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Self.writeExtracted(folder)
        let catalog = try Self.catalog(folder)
        let messages = LockedLines()
        let derived = try catalog.derive("cifar10-gray28", progress: messages.append)
        #expect(derived == folder.file("cifar10-gray28"))
        #expect(Self.derivedFiles(folder).sorted() == Self.expectedLayout.sorted())
        #expect(messages.lines.first?.contains("deriving cifar10-gray28 from cifar10 (\(folder.file("cifar10"))): 20 training and 10 test images") == true,
                "\(messages.lines)")
        #expect(messages.lines.last == "wrote 30 PNG images to \(derived)")

        // Class c's training records are k ≡ 7c (mod 10), the first two k₀ and k₀ + 10; its test
        // record is the first k with 7k ≡ c, k ≡ 3c (mod 10).
        for c in 0..<10 {
            let picks = [("Train/\(c)/Image00000.png", 7 * c % 10, false), ("Train/\(c)/Image00001.png", 7 * c % 10 + 10, false),
                         ("Test/\(c)/Image00000.png", 3 * c % 10, true)]
            for (name, id, test) in picks {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: derived + "/" + name))
                let png = try naiveGrayPNG([UInt8](bytes))  // an 8-bit gray PNG, read without libpng
                #expect(png.width == 28 && png.height == 28)
                let expected = Self.expectedImage(id: id, test: test)
                let differing = (0..<784).filter { expected[$0] != nil && expected[$0] != Int(png.pixels[$0]) }
                #expect(differing.isEmpty, "\(name) (record \(id)): pixels \(differing.prefix(5)) differ, e.g. \(differing.first.map { "\(png.pixels[$0]) for \(expected[$0]!)" } ?? "")")
            }
        }

        // By hand, record 0 (blue 0): luma(y, x) = (19595·8x + 38470·4y + 32768) >> 16.
        // Output (3, 3) samples input (3.5, 3.5): luma (3,3) 14, (3,4) 17, (4,3) 17, (4,4) 19;
        // top 15.5, bottom 18, mean 16.75 → 17. Output (0, 0) samples (1/14, 1/14): luma 0, 2, 2, 5;
        // top 0.143, bottom 2.214 → 0.291 → 0. Output (0, 27) samples x = 30 + 13/14 of row 1/14:
        // luma (0,30) 72, (0,31) 74, (1,30) 74, (1,31) 76; top 73.857, bottom 75.857 → 74.0 → 74.
        let first = try PNG.decode(fileAt: derived + "/Train/0/Image00000.png")
        #expect(first.channels == 1)
        #expect([first.pixels[3 * 28 + 3], first.pixels[0], first.pixels[27]] == [17, 0, 74])

        // Read back as training reads it: the catalog's class names, 20 + 10 images.
        let train = try catalog.load("cifar10-gray28", split: .train)
        #expect(train.count == 20 && train.classNames == CIFAR10.classNames && train.classCounts == [Int](repeating: 2, count: 10))
        #expect(try catalog.verify("cifar10-gray28").map(\.status) == [.noChecksum, .noChecksum])
    }

    /// Once there, the dataset is left alone: nothing is derived or written again.
    @Test func aSecondRunDoesNothing() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Self.writeExtracted(folder)
        let catalog = try Self.catalog(folder)
        let path = try await catalog.fetch("cifar10-gray28")
        let image = path + "/Train/3/Image00001.png"
        let before = try FileManager.default.attributesOfItem(atPath: image)[.modificationDate] as? Date
        let messages = LockedLines()
        #expect(try await catalog.fetch("cifar10-gray28", progress: messages.append) == path)
        #expect(try catalog.derive("cifar10-gray28", progress: messages.append) == path)
        #expect(messages.lines.isEmpty, "\(messages.lines)")
        #expect(try FileManager.default.attributesOfItem(atPath: image)[.modificationDate] as? Date == before)
        #expect(Self.derivedFiles(folder).sorted() == Self.expectedLayout.sorted())
    }

    /// `fetch` takes the archive the verified way (a file already there with the published sum
    /// is not downloaded again), unpacks it, then derives.
    @Test func fetchUnpacksTheVerifiedArchiveThenDerives() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let archive = try Self.archive()
        try folder.write(archive, to: "cifar10/cifar-10-binary.tar.gz")
        let catalog = try Self.catalog(folder, archiveSum: SHA256Sum.hex(archive))
        let messages = LockedLines()
        let path = try await catalog.fetch("cifar10-gray28", progress: messages.append)
        #expect(path == folder.file("cifar10-gray28"))
        #expect(messages.lines.count == 3 && messages.lines[0] == "unpacking \(folder.file("cifar10/cifar-10-binary.tar.gz"))", "\(messages.lines)")
        #expect(Self.derivedFiles(folder).sorted() == Self.expectedLayout.sorted())
        #expect(try catalog.load("cifar10-gray28", split: .test).count == 10)
    }

    /// A truncated archive, or one with a flipped bit, fails naming the archive and leaves no
    /// derived folder (nor a temporary one). Its sum is made the published one here, as if the
    /// damage had happened before publication: otherwise the download's check refuses it first.
    @Test func aBrokenArchiveNamesItAndLeavesNothing() async throws {
        let good = try Self.archive()
        var flipped = good
        flipped[good.count / 2] ^= 0x10
        var damaged: [(String, [UInt8])] = [("truncated", Array(good.prefix(good.count - 700))), ("flipped", flipped)]
        damaged += damagedCopies(of: good, count: 20, seed: 28).enumerated().map { ("damaged \($0)", $1) }
        for (what, bytes) in damaged {
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let path = try folder.write(bytes, to: "cifar10/cifar-10-binary.tar.gz")
            let catalog = try Self.catalog(folder, archiveSum: SHA256Sum.hex(bytes))
            do {
                _ = try await catalog.fetch("cifar10-gray28")
                // A damaged byte in the gzip header's time stamp still unpacks the same batches.
                #expect(Self.derivedFiles(folder).sorted() == Self.expectedLayout.sorted(), "\(what)")
            } catch let LoupeError.file(errorPath, message) {
                #expect(errorPath == path, "\(what): \(message)")
                #expect(message.hasPrefix("cifar10-gray28 is derived from cifar10, which is not available: "), "\(what): \(message)")
                #expect(Self.derivedFiles(folder).isEmpty, "\(what): \(Self.derivedFiles(folder))")
            }
        }
    }

    /// A truncated batch among the unpacked files: named, and nothing derived is left.
    @Test func aTruncatedBatchNamesItAndLeavesNothing() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Self.writeExtracted(folder)
        let batch = try folder.write(Array(Self.batches()[2].bytes.dropLast(5)), to: "cifar10/cifar-10-batches-bin/data_batch_3.bin")
        let error = fileError { try Self.catalog(folder).derive("cifar10-gray28") }
        #expect(error?.path == batch)
        #expect(error?.message.contains("record 4 is incomplete") == true, "\(error?.message ?? "")")
        #expect(Self.derivedFiles(folder).isEmpty)
    }

    /// A class with fewer images than asked for is an error naming the source.
    @Test func tooFewImagesOfAClass() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Self.writeExtracted(folder)
        let error = fileError { try Self.catalog(folder, train: 3).derive("cifar10-gray28") }
        #expect(error?.path == folder.file("cifar10"))
        #expect(error?.message == "the Train split holds 2 images of class 1 (automobile), fewer than the 3 to take")
        #expect(Self.derivedFiles(folder).isEmpty)
    }

    /// What a killed run of this host left (a hidden temporary folder) is removed; a folder of
    /// the dataset's name that is not complete is never replaced or touched.
    @Test func leftoversAndIncompleteFolders() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Self.writeExtracted(folder)
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        let host = String(cString: name).replacingOccurrences(of: "-", with: "_")
        let leftover = ".cifar10-gray28.partial-\(host)-\(finished.processIdentifier)-12345"
        let otherHost = ".cifar10-gray28.partial-elsewhere-\(finished.processIdentifier)-12345"
        try folder.write([1], to: leftover + "/Train/0/Image00000.png")
        try folder.write([1], to: otherHost + "/Train/0/Image00000.png")
        try Self.catalog(folder).derive("cifar10-gray28")
        #expect(!FileManager.default.fileExists(atPath: folder.file(leftover)))
        #expect(FileManager.default.fileExists(atPath: folder.file(otherHost)))

        let other = try TemporaryFolder()
        defer { other.remove() }
        try Self.writeExtracted(other)
        try other.write([7], to: "cifar10-gray28/Train/0/mine.png")
        let error = fileError { try Self.catalog(other).derive("cifar10-gray28") }
        #expect(error?.path == other.file("cifar10-gray28"))
        #expect(error?.message.contains("not a complete dataset") == true)
        #expect(Self.derivedFiles(other) == ["cifar10-gray28", "cifar10-gray28/Train", "cifar10-gray28/Train/0", "cifar10-gray28/Train/0/mine.png"])
    }

    /// mnist-png28 from the mnist entry's IDX files, by the same code: no resize.
    @Test func mnistPNG28FromIDX() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let labels: [UInt8] = [3, 1, 3, 0, 2, 1, 0, 2, 3, 0, 1, 2], testLabels: [UInt8] = [2, 0, 1, 3]
        let pixels = (0..<labels.count * 4).map { UInt8($0 * 5) }
        try folder.write(try Gzip.compress(idxImages(count: labels.count, rows: 2, columns: 2, pixels: pixels)), to: "mnist/train-images-idx3-ubyte.gz")
        try folder.write(try Gzip.compress(idxLabels(labels)), to: "mnist/train-labels-idx1-ubyte.gz")
        try folder.write(try Gzip.compress(idxImages(count: 4, rows: 2, columns: 2, pixels: (0..<16).map { UInt8(200 + $0) })), to: "mnist/t10k-images-idx3-ubyte.gz")
        try folder.write(try Gzip.compress(idxLabels(testLabels)), to: "mnist/t10k-labels-idx1-ubyte.gz")
        let standard = DatasetCatalog(dataDirectory: "/nowhere")
        var mnist = try standard.entry(named: "mnist"), png = try standard.entry(named: "mnist-png28")
        #expect(png.derivation == Derivation(source: "mnist", trainPerClass: 1000, testPerClass: 100))
        mnist.classNames = Dataset.numericClassNames(4)
        png.classNames = mnist.classNames
        png.derivation?.trainPerClass = 2
        png.derivation?.testPerClass = 1
        let path = try DatasetCatalog(dataDirectory: folder.path, entries: [mnist, png]).derive("mnist-png28")
        // Class 0's training images are numbers 3 and 6 (pixels 5·4k …), class 3's 0 and 2.
        for (name, image) in [("Train/0/Image00000.png", 3), ("Train/0/Image00001.png", 6), ("Train/3/Image00001.png", 2)] {
            #expect(try PNG.decode(fileAt: path + "/" + name).pixels == (0..<4).map { UInt8((4 * image + $0) * 5) }, "\(name)")
        }
        #expect(try PNG.decode(fileAt: path + "/Test/1/Image00000.png").pixels == [208, 209, 210, 211])
        #expect(try FileManager.default.contentsOfDirectory(atPath: path + "/Train").sorted() == ["0", "1", "2", "3"])
    }
}

/// Progress lines collected from a `@Sendable` callback.
final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func append(_ line: String) { lock.withLock { stored.append(line) } }
}
