import LoupeCore

/// Reads regular-file members out of a tar archive (POSIX ustar and GNU tar, as `tar czf` writes
/// them) held in memory: 512-byte headers, each followed by the member's data padded to 512 bytes.
/// Enough to take CIFAR-10's `.bin` batches out of `cifar-10-binary.tar.gz`.
enum Tar {
    /// The regular files whose base name is in `names`, keyed by base name. Headers with a bad
    /// checksum or data running past the end throw, naming `path`.
    static func extract(_ archive: [UInt8], names: Set<String>, path: String) throws -> [String: [UInt8]] {
        var found: [String: [UInt8]] = [:]
        var offset = 0
        var longName: String?
        while offset + 512 <= archive.count {
            let header = archive[offset..<(offset + 512)]
            if header.allSatisfy({ $0 == 0 }) { break }  // end-of-archive marker
            let stored = octal(header, from: 148, length: 8)
            let computed = header.enumerated().reduce(0) { sum, item in
                sum + ((148..<156).contains(item.offset) ? 32 : Int(item.element))
            }
            guard stored == computed else {
                throw LoupeError.file(path: path, message: "corrupt tar header at byte \(offset) (checksum \(stored), computed \(computed))")
            }
            let size = octal(header, from: 124, length: 12)
            let type = header[header.startIndex + 156]
            let dataStart = offset + 512
            guard size >= 0, dataStart + size <= archive.count else {
                throw LoupeError.file(path: path, message: "truncated: tar member at byte \(offset) runs past the end of the archive")
            }
            var name = longName ?? text(header, from: 0, length: 100)
            longName = nil
            let prefix = text(header, from: 345, length: 155)
            if !prefix.isEmpty && header[header.startIndex + 257..<header.startIndex + 262].elementsEqual("ustar".utf8) {
                name = prefix + "/" + name
            }
            switch type {
            case UInt8(ascii: "L"):  // GNU long name: the next header's name is this member's data
                longName = String(decoding: archive[dataStart..<(dataStart + size)].prefix { $0 != 0 }, as: UTF8.self)
            case 0, UInt8(ascii: "0"):
                let base = name.split(separator: "/").last.map(String.init) ?? name
                if names.contains(base) { found[base] = Array(archive[dataStart..<(dataStart + size)]) }
            default:
                break
            }
            offset = dataStart + (size + 511) / 512 * 512
        }
        return found
    }

    private static func text(_ header: ArraySlice<UInt8>, from start: Int, length: Int) -> String {
        let field = header[(header.startIndex + start)..<(header.startIndex + start + length)]
        return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal number field, space- or NUL-terminated; -1 when it holds no digits.
    private static func octal(_ header: ArraySlice<UInt8>, from start: Int, length: Int) -> Int {
        var value = 0, digits = 0
        for byte in header[(header.startIndex + start)..<(header.startIndex + start + length)] {
            if byte == 0 || byte == UInt8(ascii: " ") { if digits > 0 { break } else { continue } }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), value < Int.max >> 4 else { return -1 }
            value = value * 8 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : -1
    }
}
