import LoupeCore

/// Protocol-buffer wire format, by hand, for the few TensorBoard messages Loupe writes
/// (`Summaries.swift`). Fields are written in field-number order and proto3 defaults (0, empty)
/// are left out, as protobuf's own serializers do, so the bytes can be compared with theirs.
///
/// Wire types: 0 varint, 1 fixed 64-bit (double), 2 length-delimited (strings, bytes, messages,
/// packed repeated), 5 fixed 32-bit (float).
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// An int32, int64 or enum field (negative values as ten-byte two's complement, as protobuf does).
    mutating func int(_ field: Int, _ value: Int) {
        guard value != 0 else { return }
        key(field, 0)
        varint(UInt64(bitPattern: Int64(value)))
    }

    /// A bool; `evenIfDefault` for a member of a `oneof`, which is written whatever its value.
    mutating func bool(_ field: Int, _ value: Bool, evenIfDefault: Bool = false) {
        guard value || evenIfDefault else { return }
        key(field, 0)
        varint(value ? 1 : 0)
    }

    mutating func double(_ field: Int, _ value: Double, evenIfDefault: Bool = false) {
        guard value.bitPattern != 0 || evenIfDefault else { return }   // +0.0 is the default; -0.0 is written
        key(field, 1)
        fixed64(value.bitPattern)
    }

    mutating func float(_ field: Int, _ value: Float, evenIfDefault: Bool = false) {
        guard value.bitPattern != 0 || evenIfDefault else { return }
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytes(_ field: Int, _ value: [UInt8], evenIfDefault: Bool = false) {
        guard !value.isEmpty || evenIfDefault else { return }
        lengthDelimited(field, value)
    }

    mutating func string(_ field: Int, _ value: String, evenIfDefault: Bool = false) {
        bytes(field, Array(value.utf8), evenIfDefault: evenIfDefault)
    }

    /// A sub-message, written even when empty (a set message field differs from an unset one).
    mutating func message(_ field: Int, _ body: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        body(&inner)
        lengthDelimited(field, inner.bytes)
    }

    /// A packed repeated double field.
    mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        guard !values.isEmpty else { return }
        key(field, 2)
        varint(UInt64(values.count * 8))
        for value in values { fixed64(value.bitPattern) }
    }

    private mutating func fixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func lengthDelimited(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
}

/// Reads protocol-buffer fields from bytes, checking every length against what is left, so a
/// corrupt or hostile message can fail but never make it allocate or read out of bounds.
struct ProtoReader {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    /// The next field number and value, or nil at the end.
    mutating func next() throws -> (field: Int, value: Value)? {
        guard position < bytes.endIndex else { return nil }
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0 && key >> 3 <= 0x1FFF_FFFF else { throw Malformed(description: "field number \(key >> 3)") }
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1: return (field, .fixed64(try fixed(8)))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.endIndex - position) else {
                throw Malformed(description: "field \(field) claims \(length) bytes, \(bytes.endIndex - position) are left")
            }
            let start = position
            position += Int(length)
            return (field, .bytes(bytes[start..<position]))
        case 5: return (field, .fixed32(UInt32(truncatingIfNeeded: try fixed(4))))
        default: throw Malformed(description: "wire type \(key & 7) of field \(field)")
        }
    }

    private mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard position < bytes.endIndex else { throw Malformed(description: "varint runs past the end") }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return result }
        }
        throw Malformed(description: "varint longer than 10 bytes")
    }

    private mutating func fixed(_ count: Int) throws -> UInt64 {
        guard bytes.endIndex - position >= count else { throw Malformed(description: "fixed field runs past the end") }
        var result: UInt64 = 0
        for i in 0..<count { result |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += count
        return result
    }
}
