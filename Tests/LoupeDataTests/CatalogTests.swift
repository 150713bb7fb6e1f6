import Foundation
import LoupeCore
import LoupeData
import Testing

@Suite struct CatalogTests {
    @Test func dataDirectoryFollowsTheEnvironment() {
        let cwd = FileManager.default.currentDirectoryPath
        #expect(DatasetCatalog.defaultDataDirectory(environment: ["LOUPE_DATA": "/data", "XDG_CACHE_HOME": "/cache"]) == "/data")
        #expect(DatasetCatalog.defaultDataDirectory(environment: ["LOUPE_DATA": "../shared/data"]) == cwd + "/../shared/data")
        #expect(DatasetCatalog.defaultDataDirectory(environment: ["XDG_CACHE_HOME": "/cache", "HOME": "/home/u"]) == "/cache/loupe")
        #expect(DatasetCatalog.defaultDataDirectory(environment: ["LOUPE_DATA": "", "HOME": "/home/u"]) == "/home/u/.cache/loupe")
        // XDG: a relative XDG_CACHE_HOME is invalid and ignored.
        #expect(DatasetCatalog.defaultDataDirectory(environment: ["XDG_CACHE_HOME": "cache", "HOME": "/home/u"]) == "/home/u/.cache/loupe")
        let catalog = DatasetCatalog(environment: ["LOUPE_DATA": "/data"])
        #expect(catalog.folder(for: "cifar10-gray28") == "/data/cifar10-gray28")
    }

    @Test func standardEntries() throws {
        let catalog = DatasetCatalog(dataDirectory: "/nowhere")
        #expect(catalog.entries.map(\.name) == ["mnist", "fashion-mnist", "cifar10", "cifar10-gray28", "mnist-png28"])
        for entry in catalog.entries {
            #expect(entry.classNames.count == 10)
            for file in entry.downloads {
                #expect(file.sha256.count == 64 && file.sha256.allSatisfy(\.isHexDigit) && file.sha256 == file.sha256.lowercased())
                #expect(!file.urls.isEmpty && file.urls.allSatisfy { $0.hasSuffix(file.name) })
            }
        }
        #expect(try catalog.entry(named: "fashion-mnist").systemLocations == ["/usr/share/datasets/fashion-mnist"])
        #expect(throws: LoupeError.self) { try catalog.entry(named: "imagenet") }
    }

    /// A dataset absent everywhere: the error says which files to put where.
    @Test func missingDatasetsSayWhatToDo() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let catalog = DatasetCatalog(dataDirectory: folder.path)
        let mnist = fileError { _ = try catalog.load("mnist", split: .train) }
        #expect(mnist?.path == folder.file("mnist"))
        #expect(mnist?.message.contains("train-images-idx3-ubyte.gz  from https://storage.googleapis.com/cvdf-datasets/mnist/") == true)
        let gray = fileError { _ = try catalog.load("cifar10-gray28", split: .train) }
        #expect(gray?.message.contains("Make it with `loupe data get cifar10-gray28`, which derives it from cifar10") == true)
        // Deriving needs cifar10, whose download fails here (nothing listens on port 9): the
        // error says so and lists the archive to put in place by hand.
        var cifar10 = try catalog.entry(named: "cifar10")
        cifar10.downloads[0].urls = ["http://127.0.0.1:9/cifar-10-binary.tar.gz"]
        let offline = DatasetCatalog(dataDirectory: folder.path, entries: [cifar10, try catalog.entry(named: "cifar10-gray28")])
        let fetched = await fileError { _ = try await offline.fetch("cifar10-gray28") }
        #expect(fetched?.path == folder.file("cifar10"))
        #expect(fetched?.message.hasPrefix("cifar10-gray28 is derived from cifar10, which is not available: could not download cifar10") == true)
        #expect(fetched?.message.contains(folder.file("cifar10/cifar-10-binary.tar.gz") + "  from http://127.0.0.1:9/") == true)
        #expect(!FileManager.default.fileExists(atPath: folder.file("cifar10-gray28")))
    }

    /// `LOUPE_DATA=../shared/data` makes cifar10-gray28 resolve to ../shared/data/cifar10-gray28.
    @Test func folderDatasetFromTheDataDirectory() throws {
        guard let root = realDataRoot("folderDatasetFromTheDataDirectory") else { return }
        let catalog = DatasetCatalog(environment: ["LOUPE_DATA": root])
        #expect(try catalog.location(of: "cifar10-gray28") == root + "/cifar10-gray28")
        let test = try catalog.load("cifar10-gray28", split: .test)
        #expect(test.count == 1000)
        #expect(test.classNames == CIFAR10.classNames)  // the catalog names numeric folders
        let checks = try catalog.verify("cifar10-gray28")
        #expect(checks.map(\.status) == [.noChecksum, .noChecksum])
    }

    /// Debian's copy is found at its system location; its recompressed `.gz` files differ from
    /// the published ones but their contents match the published content sums.
    @Test func fashionMNISTFromTheSystemCopy() throws {
        guard let system = fashionMNISTFolder("fashionMNISTFromTheSystemCopy") else { return }
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let catalog = DatasetCatalog(dataDirectory: folder.path)
        #expect(try catalog.location(of: "fashion-mnist") == system)
        let test = try catalog.load("fashion-mnist", split: .test, channels: .rgb, resize: ImageSize(height: 14, width: 14))
        #expect(test.count == 10_000)
        #expect(test.imageShape == ImageShape(height: 14, width: 14, channels: 3))
        #expect(test.classNames[9] == "Ankle boot")
        #expect(test.labels[0] == 9)

        // Only the small files: hashing the 26 MB training images is slow in a debug build.
        var labelsOnly = try catalog.entry(named: "fashion-mnist")
        labelsOnly.downloads = labelsOnly.downloads.filter { $0.name.contains("labels") }
        let checks = try DatasetCatalog(dataDirectory: folder.path, entries: [labelsOnly]).verify("fashion-mnist")
        #expect(checks.map(\.status) == [.contentVerified, .contentVerified])
        #expect(checks.map(\.path) == [system + "/train-labels-idx1-ubyte.gz", system + "/t10k-labels-idx1-ubyte.gz"])
    }

    @Test func verifyReportsMismatchesAndMissingFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let content: [UInt8] = Array("labels".utf8)
        let compressed = try Gzip.compress(content)
        var entry = CatalogEntry(name: "tiny", summary: "", format: .idx, classNames: ["0"], downloads: [
            CatalogFile(name: "t10k-labels-idx1-ubyte.gz", urls: [], sha256: SHA256Sum.hex(compressed)),
            CatalogFile(name: "train-labels-idx1-ubyte.gz", urls: [], sha256: String(repeating: "0", count: 64),
                        contentSHA256: SHA256Sum.hex(content)),
            CatalogFile(name: "t10k-images-idx3-ubyte.gz", urls: [], sha256: String(repeating: "1", count: 64)),
            CatalogFile(name: "train-images-idx3-ubyte.gz", urls: [], sha256: String(repeating: "2", count: 64)),
        ])
        try folder.write(compressed, to: "tiny/t10k-labels-idx1-ubyte.gz")
        try folder.write(content, to: "tiny/train-labels-idx1-ubyte")  // gunzipped copy: checked by content
        try folder.write([1, 2, 3], to: "tiny/t10k-images-idx3-ubyte.gz")
        let checks = try DatasetCatalog(dataDirectory: folder.path, entries: [entry]).verify("tiny")
        #expect(checks.map(\.status) == [
            .verified, .contentVerified,
            .mismatch(expected: String(repeating: "1", count: 64), found: SHA256Sum.hex([1, 2, 3])), .missing,
        ])
        #expect(checks[1].path == folder.file("tiny/train-labels-idx1-ubyte"))
        entry.downloads.removeAll()
    }
}
