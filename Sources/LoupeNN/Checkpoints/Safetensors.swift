import Foundation
import LoupeCore

/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`,
/// then the tensors' raw little-endian bytes, offsets relative to the end of the header.
///
/// Loupe writes F32 only, in name order, and reads F32 only; reading validates everything a
/// damaged or foreign file can get wrong and names the file and tensor at fault.
public enum Safetensors {
    static let dtypeSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
    ]
    /// Largest header Loupe accepts (the format's reference reader uses 100 MB).
    static let maximumHeaderBytes = 100_000_000

    /// Encodes `tensors` (names must be unique) and string `metadata`.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let sorted = tensors.sorted { $0.name < $1.name }
        for (i, entry) in sorted.enumerated() {
            if i > 0 && sorted[i - 1].name == entry.name {
                throw LoupeError.invalidArgument(name: entry.name, message: "tensor name used twice in one safetensors file")
            }
            let bytes = entry.tensor.count * 4
            header[entry.name] = ["dtype": "F32", "shape": entry.tensor.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned (allowed by the format).
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(json)
        for entry in sorted {
            entry.tensor.withUnsafeBufferPointer { buffer in
                // Float32 bit patterns, little-endian.
                var bytes = [UInt8](repeating: 0, count: buffer.count * 4)
                for (i, v) in buffer.enumerated() {
                    let bits = v.bitPattern.littleEndian
                    withUnsafeBytes(of: bits) { raw in for b in 0..<4 { bytes[i * 4 + b] = raw[b] } }
                }
                data.append(contentsOf: bytes)
            }
        }
        return data
    }

    /// Writes atomically: a temporary file beside `url`, then a rename over it.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        try writeAtomically(try encode(tensors, metadata: metadata), to: url)
    }

    /// Decodes a file's bytes; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func fail(_ message: String) -> LoupeError { .file(path: path, message: message) }
        guard data.count >= 8 else { throw fail("truncated: \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | (UInt64($1.element) << (8 * UInt64($1.offset))) }
        guard headerLength <= UInt64(maximumHeaderBytes), Int(headerLength) <= data.count - 8 else {
            throw fail("header length \(headerLength) exceeds the file (\(data.count) bytes): truncated or not a safetensors file")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any] else {
            throw fail("header is not a JSON object: not a safetensors file")
        }
        let body = data.subdata(in: (8 + Int(headerLength))..<data.count)
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let m = raw as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
            metadata = m
        }
        var ranges: [(name: String, range: Range<Int>)] = []
        var tensors: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("tensor \(name): entry needs dtype, shape and two data_offsets")
            }
            guard let size = dtypeSizes[dtype] else { throw fail("tensor \(name): unknown dtype \(dtype)") }
            guard dtype == "F32" else { throw fail("tensor \(name): dtype \(dtype) is not supported (Loupe reads F32)") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor \(name): negative dimension in shape \(shape)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= body.count else {
                throw fail("tensor \(name): data_offsets [\(begin), \(end)] fall outside the \(body.count) data bytes (truncated file?)")
            }
            // A lying shape must not overflow: its product is checked against the span's size.
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= body.count else { throw fail("tensor \(name): shape \(shape) is larger than the file") }
                count = product
            }
            guard count * size == end - begin else {
                throw fail("tensor \(name): shape \(shape) needs \(count * size) bytes but data_offsets span \(end - begin)")
            }
            ranges.append((name, begin..<end))
            let tensor = Tensor(shape: shape, initializingWith: { buffer in
                body.withUnsafeBytes { raw in
                    for i in 0..<count {
                        let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: begin + i * 4, as: UInt32.self))
                        buffer[i] = Float(bitPattern: bits)
                    }
                }
            })
            tensors[name] = tensor
        }
        // The data must be covered exactly once: no overlaps, no holes.
        ranges.sort { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        var position = 0
        for (name, range) in ranges {
            if range.lowerBound < position { throw fail("tensor \(name): data overlaps the previous tensor's") }
            if range.lowerBound > position { throw fail("tensor \(name): hole in the data before byte \(range.lowerBound)") }
            position = range.upperBound
        }
        guard position == body.count else {
            throw fail("\(body.count - position) bytes after the last tensor's data")
        }
        return (tensors, metadata)
    }

    /// Reads and validates a file.
    public static func read(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LoupeError.file(path: url.path, message: "cannot be read (\(error.localizedDescription))")
        }
        return try decode(data, path: url.path)
    }
}

