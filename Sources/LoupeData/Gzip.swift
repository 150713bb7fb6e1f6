import CZlib
import LoupeCore

/// gzip streams in memory, through zlib's `inflate`/`deflate`. MNIST and Fashion-MNIST ship
/// their IDX files gzip-compressed, CIFAR-10 its batches as a `.tar.gz`.
public enum Gzip {
    /// Whether `bytes` start with the gzip magic number 1f 8b.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// The decompressed contents of a gzip (or zlib) stream; concatenated gzip members are
    /// joined, as `gunzip` does. A stream cut short or corrupt throws, naming `path`.
    public static func decompress(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        guard bytes.count <= Int(UInt32.max) else {
            throw LoupeError.file(path: path, message: "a compressed file over 4 GiB is not supported")
        }
        // gzip's trailer holds the uncompressed size modulo 2³²: a good first capacity, unless it
        // is more than deflate can expand the input to (1,032:1), as in a cut or damaged file.
        var capacity = max(1 << 16, bytes.count * 2)
        if isCompressed(bytes), bytes.count >= 18 {
            let n = bytes.count
            let stated = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
            if stated <= 1032 * n { capacity = max(capacity, stated + 1) }
        }
        var output = [UInt8](repeating: 0, count: capacity)
        var produced = 0
        var stream = z_stream()
        // 15 + 32: the largest window, with the gzip or zlib header detected automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw LoupeError.file(path: path, message: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        try bytes.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            while true {
                if produced == output.count {
                    output.append(contentsOf: repeatElement(0, count: output.count))
                }
                let room = min(output.count - produced, Int(UInt32.max))
                let status = output.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress! + produced
                    stream.avail_out = UInt32(room)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    produced += room - Int(stream.avail_out)
                    return status
                }
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    // Another gzip member may follow (files made by `cat a.gz b.gz`).
                    let remaining = Int(stream.avail_in)
                    let next = input.count - remaining
                    if remaining >= 2 && input[next] == 0x1f && input[next + 1] == 0x8b {
                        inflateReset(&stream)
                        continue
                    }
                    return
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw LoupeError.file(path: path,
                                          message: "compressed data ends early (truncated after \(produced) decompressed bytes)")
                case Z_BUF_ERROR:
                    continue
                default:
                    let detail = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw LoupeError.file(path: path, message: "corrupt compressed data: \(detail)")
                }
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    /// `bytes` as a single gzip member (for writing test files and caches).
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 16: the largest window, with a gzip header and trailer.
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw LoupeError.invalidArgument(name: "level", message: "zlib rejected compression level \(level)")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(bytes.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let status = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { buffer in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(input.count)
                stream.next_out = buffer.baseAddress
                stream.avail_out = UInt32(buffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw LoupeError.invalidArgument(name: "bytes", message: "zlib deflate failed with status \(status)")
        }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}
