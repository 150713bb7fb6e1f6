import Foundation
import LoupeCore

/// A TensorBoard event file: TFRecord framing around serialized `Event` messages. Each record is
///
///     length: UInt64 little-endian · masked CRC-32C of those 8 bytes · data · masked CRC-32C of data
///
/// Records are buffered in memory and reach the file only in whole records, on `flush()`, so a
/// process killed at any moment leaves complete records and at most one cut short at the end.
final class EventFileWriter {
    private(set) var url: URL
    private let handle: FileHandle
    private var pending: [UInt8] = []

    /// Creates the file `url` (which must not exist).
    init(creating url: URL) throws {
        self.url = url
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: url.path) else {
            throw LoupeError.file(path: url.path, message: "cannot be created")
        }
        self.handle = handle
    }

    /// The framing of one record around `data`.
    static func frame(_ data: [UInt8]) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(data.count + 16)
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { record.append(contentsOf: $0) }
        let lengthCRC = CRC32C.masked(record)
        withUnsafeBytes(of: lengthCRC.littleEndian) { record.append(contentsOf: $0) }
        record.append(contentsOf: data)
        withUnsafeBytes(of: CRC32C.masked(data).littleEndian) { record.append(contentsOf: $0) }
        return record
    }

    func append(_ event: [UInt8]) { pending += Self.frame(event) }

    /// Writes the buffered records to the file.
    func flush() throws {
        guard !pending.isEmpty else { return }
        do { try handle.write(contentsOf: pending) } catch {
            throw LoupeError.file(path: url.path, message: "cannot be written (\(error.localizedDescription))")
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Gives the file its name (the open handle keeps writing to it).
    func rename(to destination: URL) throws {
        guard Foundation.rename(url.path, destination.path) == 0 else {
            throw LoupeError.file(path: destination.path, message: "cannot be created (\(String(cString: strerror(errno))))")
        }
        url = destination
    }

    deinit {
        try? flush()
        try? handle.close()
    }

    /// `events.out.tfevents.<seconds>.<host>.<pid>.<n>`, TensorFlow's pattern; `n` counts the
    /// files this process has opened, so two writers in one process and second never collide.
    static func fileName(date: Date = Date()) -> String {
        let host = ProcessInfo.processInfo.hostName.map { $0 == "/" ? "_" : $0 }
        return "events.out.tfevents.\(Int(date.timeIntervalSince1970)).\(String(host)).\(getpid()).\(FileCounter.shared.next())"
    }

    /// Whether `name` is an event file's name (TensorBoard reads files whose name holds "tfevents").
    static func isEventFile(_ name: String) -> Bool { name.hasPrefix("events.out.tfevents.") }
}

private final class FileCounter: @unchecked Sendable {
    static let shared = FileCounter()
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { defer { value += 1 }; return value } }
}

/// The records of an event file, read back (for `--resume` and for tests). A record cut short
/// at the end (a killed writer) ends the list; a complete record whose CRC does not match is an
/// error naming the file and the offset. Nothing is allocated from a length field before it is
/// checked against the bytes that are actually there.
struct EventFileReader {
    /// The complete records, and how many bytes at the end belong to an incomplete one.
    var records: [[UInt8]] = []
    var truncatedBytes = 0

    init(url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LoupeError.file(path: url.path, message: "cannot be read (\(error.localizedDescription))")
        }
        try self.init(bytes: [UInt8](data), path: url.path)
    }

    init(bytes: [UInt8], path: String) throws {
        var offset = 0
        func little<T: FixedWidthInteger>(_ type: T.Type, at position: Int) -> T {
            var value: T = 0
            for i in 0..<MemoryLayout<T>.size { value |= T(bytes[position + i]) << T(8 * i) }
            return value
        }
        while offset < bytes.count {
            let left = bytes.count - offset
            guard left >= 12 else { break }
            let length = little(UInt64.self, at: offset)
            guard little(UInt32.self, at: offset + 8) == CRC32C.masked(bytes[offset..<offset + 8]) else {
                throw LoupeError.file(path: path, message: "corrupt event record at byte \(offset): the length's CRC does not match")
            }
            guard left >= 16, length <= UInt64(left - 16) else { break }   // cut short: the writer was stopped
            let start = offset + 12, end = start + Int(length)
            let data = bytes[start..<end]
            guard little(UInt32.self, at: end) == CRC32C.masked(data) else {
                throw LoupeError.file(path: path, message: "corrupt event record at byte \(offset): the data's CRC does not match")
            }
            records.append(Array(data))
            offset = end + 4
        }
        truncatedBytes = bytes.count - offset
    }
}
