import Foundation
import LoupeData
import Testing

@Suite struct SHA256SumTests {
    // Expected digests: FIPS 180-2, Appendix B (examples B.1, B.2, B.3) and the empty message.
    @Test func knownVectors() {
        #expect(SHA256Sum.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Sum.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Sum.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256Sum.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Pieces of every size up to 130 bytes give the digest of the whole.
    @Test func streamingMatchesOneShot() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = SHA256Sum.hex(message)
        for piece in [1, 3, 55, 56, 63, 64, 65, 130] {
            var hasher = SHA256Sum()
            var start = 0
            while start < message.count {
                let end = min(start + piece, message.count)
                hasher.update(Array(message[start..<end]))
                start = end
            }
            #expect(hasher.finalize() == whole, "pieces of \(piece)")
        }
    }

    /// Against `sha256sum`, run on the same file.
    @Test func matchesSha256sumOnAFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let path = try folder.write(bytes, to: "sample.bin")
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", path]
        process.standardOutput = output
        do { try process.run() } catch {
            print("matchesSha256sumOnAFile: skipped, sha256sum cannot run (\(error))")
            return
        }
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let expected = String(printed.prefix(64))
        #expect(try SHA256Sum.hex(fileAt: path) == expected)
        #expect(SHA256Sum.hex(bytes) == expected)
    }

    /// Debian's Fashion-MNIST test labels: the sum `sha256sum` printed for that file here.
    @Test func matchesSha256sumOnARealFile() throws {
        guard let folder = fashionMNISTFolder("matchesSha256sumOnARealFile") else { return }
        #expect(try SHA256Sum.hex(fileAt: folder + "/t10k-labels-idx1-ubyte.gz")
            == "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05")
    }
}
