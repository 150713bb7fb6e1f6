import LoupeCore
import LoupeData
import Testing

@Suite struct GzipTests {
    let sample = (0..<100_000).map { UInt8(truncatingIfNeeded: ($0 * $0) >> 7) }

    @Test func roundTrip() throws {
        let compressed = try Gzip.compress(sample)
        #expect(Gzip.isCompressed(compressed))
        #expect(compressed.count < sample.count)
        #expect(try Gzip.decompress(compressed, path: "sample.gz") == sample)
        #expect(try Gzip.decompress(try Gzip.compress([]), path: "empty.gz") == [])
    }

    /// `cat a.gz b.gz` is a valid gzip file holding a then b (RFC 1952, section 2.2).
    @Test func concatenatedMembers() throws {
        let joined = try Gzip.compress(Array(sample[..<600])) + Gzip.compress(Array(sample[600...]))
        #expect(try Gzip.decompress(joined, path: "joined.gz") == sample)
    }

    @Test func truncatedStreamThrows() throws {
        let compressed = try Gzip.compress(sample)
        let error = fileError { _ = try Gzip.decompress(Array(compressed[..<(compressed.count / 2)]), path: "cut.gz") }
        #expect(error?.path == "cut.gz")
        #expect(error?.message.contains("truncated") == true)
    }

    @Test func corruptStreamThrows() throws {
        var compressed = try Gzip.compress(sample)
        for i in 20..<60 { compressed[i] ^= 0x5a }
        let error = fileError { _ = try Gzip.decompress(compressed, path: "bad.gz") }
        #expect(error?.path == "bad.gz")
    }
}
