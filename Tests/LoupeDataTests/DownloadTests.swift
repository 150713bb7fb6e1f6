import Foundation
import LoupeCore
import LoupeData
import Testing

/// Downloads against a Python HTTP server on 127.0.0.1 that each test starts and stops.
@Suite struct DownloadTests {
    let downloader = Downloader(timeout: 10)

    /// A served folder, a destination folder and the server; nil when python3 cannot run.
    func setUp() throws -> (served: TemporaryFolder, target: TemporaryFolder, server: LocalHTTPServer)? {
        let served = try TemporaryFolder()
        let target = try TemporaryFolder()
        guard let server = LocalHTTPServer.start(serving: served.path, scriptFolder: target) else {
            served.remove()
            target.remove()
            return nil
        }
        return (served, target, server)
    }

    func tearDown(_ setup: (served: TemporaryFolder, target: TemporaryFolder, server: LocalHTTPServer)) {
        setup.server.stop()
        setup.served.remove()
        setup.target.remove()
    }

    let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }

    @Test func downloadsVerifiesAndRenames() async throws {
        guard let setup = try setUp() else { return }
        defer { tearDown(setup) }
        try setup.served.write(payload, to: "file.bin")
        let destination = setup.target.file("data/file.bin")
        try await downloader.download(setup.server.base + "/file.bin", to: destination, sha256: SHA256Sum.hex(payload))
        #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == Data(payload))
        #expect(setup.target.contents() == ["data", "data/file.bin", "server.py"])
    }

    @Test func wrongChecksumKeepsNothing() async throws {
        guard let setup = try setUp() else { return }
        defer { tearDown(setup) }
        try setup.served.write(payload, to: "file.bin")
        let url = setup.server.base + "/file.bin"
        let destination = setup.target.file("file.bin")
        let error = await fileError {
            try await downloader.download(url, to: destination, sha256: String(repeating: "a", count: 64))
        }
        #expect(error?.path == destination)
        #expect(error?.message.contains(url) == true)
        #expect(error?.message.contains("SHA-256") == true)
        #expect(setup.target.contents() == ["server.py"])
    }

    @Test func droppedConnectionNamesTheURL() async throws {
        guard let setup = try setUp() else { return }
        defer { tearDown(setup) }
        let url = setup.server.base + "/drop/file.bin"
        let error = await fileError {
            try await downloader.download(url, to: setup.target.file("file.bin"), sha256: SHA256Sum.hex(payload))
        }
        #expect(error?.message.contains(url) == true)
        #expect(setup.target.contents() == ["server.py"])
    }

    @Test func missingFileNamesTheURLAndStatus() async throws {
        guard let setup = try setUp() else { return }
        defer { tearDown(setup) }
        let url = setup.server.base + "/absent.bin"
        let error = await fileError {
            try await downloader.download(url, to: setup.target.file("absent.bin"), sha256: SHA256Sum.hex(payload))
        }
        #expect(error?.message.contains(url) == true)
        #expect(error?.message.contains("HTTP 404") == true)
        #expect(setup.target.contents() == ["server.py"])
    }

    /// The catalog's whole path: an IDX dataset whose first mirror is broken, fetched from the
    /// second, verified, then loaded.
    @Test func catalogFetchesFromMirrorsThenLoads() async throws {
        guard let setup = try setUp() else { return }
        defer { tearDown(setup) }
        let pixels = (0..<(5 * 4)).map { UInt8($0 * 12) }
        let files = [
            ("train-images-idx3-ubyte.gz", try Gzip.compress(idxImages(count: 5, rows: 2, columns: 2, pixels: pixels))),
            ("train-labels-idx1-ubyte.gz", try Gzip.compress(idxLabels([0, 1, 2, 1, 0]))),
            ("t10k-images-idx3-ubyte.gz", try Gzip.compress(idxImages(count: 1, rows: 2, columns: 2, pixels: [1, 2, 3, 4]))),
            ("t10k-labels-idx1-ubyte.gz", try Gzip.compress(idxLabels([2]))),
        ]
        for (name, bytes) in files { try setup.served.write(bytes, to: "mirror/" + name) }
        let entry = CatalogEntry(name: "tiny-mnist", summary: "test", format: .idx, classNames: ["a", "b", "c"],
                                 downloads: files.map { name, bytes in
                                     CatalogFile(name: name, urls: [setup.server.base + "/drop/" + name, setup.server.base + "/mirror/" + name],
                                                 sha256: SHA256Sum.hex(bytes))
                                 })
        let catalog = DatasetCatalog(dataDirectory: setup.target.file("data"), entries: [entry])
        let folder = try await catalog.fetch("tiny-mnist", downloader: downloader)
        #expect(folder == setup.target.file("data/tiny-mnist"))
        let train = try catalog.load("tiny-mnist", split: .train)
        #expect(train.labels == [0, 1, 2, 1, 0])
        #expect(train.classNames == ["a", "b", "c"])
        #expect(try catalog.verify("tiny-mnist").allSatisfy { $0.status == .verified })
        #expect(try await catalog.fetch("tiny-mnist", downloader: downloader) == folder)  // already there
    }

    /// CIFAR-10's archive is fetched, verified, then unpacked next to it.
    @Test func catalogUnpacksCIFAR10() async throws {
        guard let setup = try setUp() else { return }
        defer { tearDown(setup) }
        let members = (CIFAR10.trainingFiles + CIFAR10.testFiles).map { (name: "cifar-10-batches-bin/" + $0, bytes: cifarRecord(label: 8)) }
        let archive = try Gzip.compress(tarArchive(members))
        try setup.served.write(archive, to: "cifar-10-binary.tar.gz")
        var entry = try DatasetCatalog(dataDirectory: "/nowhere").entry(named: "cifar10")
        entry.downloads = [CatalogFile(name: "cifar-10-binary.tar.gz", urls: [setup.server.base + "/cifar-10-binary.tar.gz"],
                                       sha256: SHA256Sum.hex(archive))]
        let catalog = DatasetCatalog(dataDirectory: setup.target.file("data"), entries: [entry])
        try await catalog.fetch("cifar10", downloader: downloader)
        let test = try catalog.load("cifar10", split: .test, channels: .gray)
        #expect(test.labels == [8])
        #expect(test.classNames[8] == "ship")
        #expect(try catalog.verify("cifar10").first?.status == .verified)
    }

    /// No server (as without a network): the error lists every file, its URL and where it goes;
    /// a wrong published sum is reported too, and nothing is left behind.
    @Test func fetchWithoutANetworkSaysWhichFilesToPutWhere() async throws {
        guard let setup = try setUp() else { return }
        try setup.served.write(payload, to: "file.bin")
        let base = setup.server.base
        let target = setup.target
        let entry = CatalogEntry(name: "offline", summary: "", format: .idx, classNames: ["0"], downloads: [
            CatalogFile(name: "train-images-idx3-ubyte.gz", urls: [base + "/file.bin"], sha256: String(repeating: "b", count: 64)),
            CatalogFile(name: "train-labels-idx1-ubyte.gz", urls: [base + "/labels.gz"], sha256: String(repeating: "c", count: 64)),
        ])
        let catalog = DatasetCatalog(dataDirectory: target.file("data"), entries: [entry])
        let mismatch = await fileError { _ = try await catalog.fetch("offline", downloader: downloader) }
        #expect(mismatch?.message.contains("SHA-256 of the download from \(base)/file.bin") == true)

        setup.server.stop()
        let error = await fileError { _ = try await catalog.fetch("offline", downloader: downloader) }
        #expect(error?.path == target.file("data/offline"))
        #expect(error?.message.contains("Without a network, put these files there by hand") == true)
        #expect(error?.message.contains(target.file("data/offline/train-images-idx3-ubyte.gz") + "  from " + base + "/file.bin") == true)
        #expect(error?.message.contains(target.file("data/offline/train-labels-idx1-ubyte.gz")) == true)
        #expect(target.contents() == ["data", "data/offline", "server.py"])
        setup.served.remove()
        target.remove()
    }
}
