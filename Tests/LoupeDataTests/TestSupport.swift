import Foundation
import LoupeCore
import LoupeData
import Testing

/// A fresh folder under the system's temporary directory, removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` (creating sub-folders) and returns the path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    func makeFolder(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: file(name), withIntermediateDirectories: true)
    }

    /// Every name under the folder, recursively, hidden ones included.
    func contents() -> [String] {
        (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted()
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The real data folder from `LOUPE_TEST_DATA` (relative to the current directory, or absolute),
/// or nil after printing why the test is skipped.
func realDataRoot(_ test: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment["LOUPE_TEST_DATA"], !value.isEmpty else {
        print("\(test): skipped, LOUPE_TEST_DATA is not set (CI sets it to ../shared/data)")
        return nil
    }
    let path = value.hasPrefix("/") ? value : FileManager.default.currentDirectoryPath + "/" + value
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
        print("\(test): skipped, LOUPE_TEST_DATA=\(value) is not a folder")
        return nil
    }
    return path
}

let fashionFolder = "/usr/share/datasets/fashion-mnist"

/// Debian's Fashion-MNIST folder (package dataset-fashion-mnist), or nil after printing why the
/// test is skipped.
func fashionMNISTFolder(_ test: String) -> String? {
    guard FileManager.default.fileExists(atPath: fashionFolder + "/t10k-labels-idx1-ubyte.gz") else {
        print("\(test): skipped, \(fashionFolder) is absent (install Debian's dataset-fashion-mnist)")
        return nil
    }
    return fashionFolder
}

/// The message of a `LoupeError.file`, with its path, for `#expect`s on wording.
func fileError(_ body: () throws -> Void) -> (path: String, message: String)? {
    do {
        try body()
    } catch let LoupeError.file(path, message) {
        return (path, message)
    } catch {
        Issue.record("expected LoupeError.file, got \(error)")
        return nil
    }
    Issue.record("expected an error, got none")
    return nil
}

func fileError(_ body: () async throws -> Void) async -> (path: String, message: String)? {
    do {
        try await body()
    } catch let LoupeError.file(path, message) {
        return (path, message)
    } catch {
        Issue.record("expected LoupeError.file, got \(error)")
        return nil
    }
    Issue.record("expected an error, got none")
    return nil
}

// Writers for the binary formats, from their specifications.

func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 255), UInt8((value >> 8) & 255), UInt8(value & 255)]
}

/// An idx3-ubyte image file: magic, count, rows, columns, then the pixels.
func idxImages(count: Int, rows: Int, columns: Int, pixels: [UInt8], magic: UInt32 = 0x0803) -> [UInt8] {
    bigEndian(magic) + bigEndian(UInt32(count)) + bigEndian(UInt32(rows)) + bigEndian(UInt32(columns)) + pixels
}

/// An idx1-ubyte label file: magic, count, then the labels.
func idxLabels(_ labels: [UInt8], magic: UInt32 = 0x0801) -> [UInt8] {
    bigEndian(magic) + bigEndian(UInt32(labels.count)) + labels
}

/// A CIFAR-10 binary record: the label, then 1,024 red, 1,024 green and 1,024 blue bytes.
/// Pixel (y, x) of channel c is `(label * 7 + c * 50 + y * 3 + x) % 256`.
func cifarRecord(label: UInt8) -> [UInt8] {
    var record = [label]
    for c in 0..<3 {
        for y in 0..<32 {
            for x in 0..<32 { record.append(UInt8((Int(label) * 7 + c * 50 + y * 3 + x) % 256)) }
        }
    }
    return record
}

/// A POSIX ustar archive of `members` (name, bytes), as `tar cf` writes one.
func tarArchive(_ members: [(name: String, bytes: [UInt8])]) -> [UInt8] {
    var archive: [UInt8] = []
    func field(_ text: String, _ length: Int) -> [UInt8] {
        let bytes = Array(text.utf8)
        return bytes + [UInt8](repeating: 0, count: length - bytes.count)
    }
    func octal(_ value: Int, _ length: Int) -> [UInt8] {
        let digits = String(value, radix: 8)
        return field(String(repeating: "0", count: length - 1 - digits.count) + digits, length)
    }
    for (name, bytes) in members {
        var header = field(name, 100) + octal(0o644, 8) + octal(0, 8) + octal(0, 8) + octal(bytes.count, 12)
            + octal(0, 12) + [UInt8](repeating: 32, count: 8) + Array("0".utf8) + field("", 100)
            + field("ustar", 6) + Array("00".utf8) + field("", 32) + field("", 32) + octal(0, 8) + octal(0, 8)
            + field("", 155)
        header += [UInt8](repeating: 0, count: 512 - header.count)
        let sum = header.reduce(0) { $0 + Int($1) }
        let checksum = String(sum, radix: 8)
        let stored = Array((String(repeating: "0", count: 6 - checksum.count) + checksum).utf8) + [0, 32]
        header.replaceSubrange(148..<156, with: stored)
        archive += header + bytes + [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512)
    }
    return archive + [UInt8](repeating: 0, count: 1024)
}

/// Decodes an 8-bit gray, non-interlaced PNG by hand (IDAT chunks joined, inflated, each row
/// unfiltered as the PNG specification's section 9 says): an implementation independent of
/// libpng to check the reader against.
func naiveGrayPNG(_ bytes: [UInt8]) throws -> (width: Int, height: Int, pixels: [UInt8]) {
    func word(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
    var offset = 8, width = 0, height = 0
    var compressed: [UInt8] = []
    while offset + 8 <= bytes.count {
        let length = word(offset)
        let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
        let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
        if type == "IHDR" {
            width = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
            height = Int(data[4]) << 24 | Int(data[5]) << 16 | Int(data[6]) << 8 | Int(data[7])
            #expect(data[8] == 8 && data[9] == 0 && data[12] == 0, "reference decoder handles 8-bit gray, non-interlaced only")
        }
        if type == "IDAT" { compressed += data }
        offset += 12 + length
    }
    let raw = try Gzip.decompress(compressed, path: "IDAT")
    var pixels = [UInt8](repeating: 0, count: width * height)
    for y in 0..<height {
        let filter = raw[y * (width + 1)]
        for x in 0..<width {
            let value = Int(raw[y * (width + 1) + 1 + x])
            let left = x > 0 ? Int(pixels[y * width + x - 1]) : 0
            let up = y > 0 ? Int(pixels[(y - 1) * width + x]) : 0
            let upLeft = x > 0 && y > 0 ? Int(pixels[(y - 1) * width + x - 1]) : 0
            let predicted: Int
            switch filter {
            case 0: predicted = 0
            case 1: predicted = left
            case 2: predicted = up
            case 3: predicted = (left + up) / 2
            default:
                let p = left + up - upLeft
                let (pa, pb, pc) = (abs(p - left), abs(p - up), abs(p - upLeft))
                predicted = pa <= pb && pa <= pc ? left : (pb <= pc ? up : upLeft)
            }
            pixels[y * width + x] = UInt8((value + predicted) & 255)
        }
    }
    return (width, height, pixels)
}

/// A tiny HTTP server on 127.0.0.1 serving `folder` (Python's `http.server`), started by a test
/// and stopped by `stop()`. Paths under `/drop/` answer with a Content-Length of 1,000,000,
/// send 1,000 bytes and close the connection. The script also exits by itself after 15 minutes,
/// so a crashed test leaves nothing running for long. (Not sooner: with suites in parallel, the
/// training suites' synchronous tests can hold both of a 2-core machine's cooperative threads
/// for a minute or more, and an async download test resumes only when one is free.)
final class LocalHTTPServer: @unchecked Sendable {
    let process = Process()
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    static let script = """
    import http.server, os, signal, sys, threading
    # The test runner may start children with SIGTERM blocked or ignored: undo both.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    root = sys.argv[1]
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)
        def do_GET(self):
            if self.path.startswith('/drop/'):
                self.send_response(200)
                self.send_header('Content-Length', '1000000')
                self.end_headers()
                self.wfile.write(b'x' * 1000)
                self.wfile.flush()
                self.close_connection = True
                return
            super().do_GET()
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Timer(900, lambda: os._exit(0)).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """

    /// Starts the server, or returns nil (after printing why) when python3 cannot run.
    static func start(serving folder: String, scriptFolder: TemporaryFolder) -> LocalHTTPServer? {
        do {
            let script = try scriptFolder.write(Array(Self.script.utf8), to: "server.py")
            return try LocalHTTPServer(script: script, folder: folder)
        } catch {
            print("HTTP server tests skipped: cannot start python3 (\(error))")
            return nil
        }
    }

    private init(script: String, folder: String) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script, folder]
        process.standardOutput = output
        try process.run()
        // The first line is the port the server bound.
        var line = ""
        while !line.hasSuffix("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            line += String(decoding: data, as: UTF8.self)
        }
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw LoupeError.file(path: script, message: "server printed '\(line)' instead of its port")
        }
        self.port = port
    }

    /// Kills the server (SIGKILL: nothing to clean up, and it cannot be blocked) and reaps it.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Damaged copies of `bytes` for fuzzing a reader, drawn from a seeded generator so that every
/// run tries the same ones: half cut short at a random length, half with 1 to 4 bytes set to
/// random values.
func damagedCopies(of bytes: [UInt8], count: Int, seed: UInt64) -> [[UInt8]] {
    var generator = RandomGenerator(seed: seed)
    return (0..<count).map { k in
        var copy = bytes
        if k % 2 == 0 {
            copy.removeSubrange(generator.nextInt(below: bytes.count)...)
        } else {
            for _ in 0...generator.nextInt(below: 4) {
                copy[generator.nextInt(below: bytes.count)] = UInt8(generator.nextInt(below: 256))
            }
        }
        return copy
    }
}

/// Runs `read` on a damaged input: it must return a dataset (a damaged byte can still make a
/// valid file) or throw a `LoupeError.file` naming one of `paths`; anything else is an issue.
func expectDatasetOrNamedError(_ paths: Set<String>, _ what: String,
                               sourceLocation: SourceLocation = #_sourceLocation, _ read: () throws -> Dataset) {
    do {
        let dataset = try read()
        #expect(dataset.pixels.count == dataset.count * dataset.imageShape.scalarCount, sourceLocation: sourceLocation)
    } catch let LoupeError.file(path, _) {
        #expect(paths.contains(path), "\(what): the error names \(path)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(what): expected LoupeError.file, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Writes `root/<split>/<class>/<n>.png` for each class: `images` gray `side`x`side` PNGs whose
/// pixels are `10 * classIndex + n + i` (mod 256).
func writeImageFolder(_ folder: TemporaryFolder, split: String, classes: [String], side: Int = 4, images: Int = 2) throws {
    for (k, name) in classes.enumerated() {
        for n in 0..<images {
            let pixels = (0..<(side * side)).map { UInt8((10 * k + n + $0) % 256) }
            try folder.write(PNG.encode(PNGImage(width: side, height: side, channels: 1, pixels: pixels)),
                             to: "\(split)/\(name)/\(n).png")
        }
    }
}
