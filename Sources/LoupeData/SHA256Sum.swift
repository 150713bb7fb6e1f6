import Crypto
import Foundation
import LoupeCore

/// SHA-256 (FIPS 180-4) spelled as `sha256sum` prints it: 64 lowercase hexadecimal digits. For
/// checking downloads and installed files against published sums, and for trial ids.
///
/// The hashing is swift-crypto's `SHA256` (BoringSSL on Linux, CryptoKit on Apple platforms);
/// this type streams bytes into it and spells the digest. It is not called `SHA256` so that no
/// file that sees both Crypto and LoupeData has two of them. Streaming: `update` any number of
/// times, then `finalize`.
public struct SHA256Sum {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    /// The hex digest of every byte given to `update`.
    public func finalize() -> String {
        let digest = hasher.finalize()
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(2 * Crypto.SHA256.byteCount)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The hex digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        var sum = SHA256Sum()
        sum.update(bytes)
        return sum.finalize()
    }

    /// The hex digest of the file at `path`, read in 1 MiB pieces (never whole).
    public static func hex(fileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LoupeError.file(path: path, message: "cannot open for reading")
        }
        defer { try? handle.close() }
        var sum = SHA256Sum()
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                sum.update(chunk)
            }
        } catch {
            throw LoupeError.file(path: path, message: "read failed: \(error.localizedDescription)")
        }
        return sum.finalize()
    }
}
