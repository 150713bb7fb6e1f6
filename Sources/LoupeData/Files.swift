import Foundation
import LoupeCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File-system helpers shared by the readers and the catalog. Every failure is a
/// `LoupeError.file` naming the path.
enum Files {
    /// The whole file. Reads with `read(2)` into one buffer, without Foundation's `Data` copy.
    static func readBytes(_ path: String) throws -> [UInt8] {
        if isDirectory(path) { throw LoupeError.file(path: path, message: "is a folder, not a file") }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw LoupeError.file(path: path, message: "cannot open: \(errnoText())") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw LoupeError.file(path: path, message: "cannot stat: \(errnoText())") }
        let size = Int(info.st_size)
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var done = 0
            while done < size {
                let got = read(descriptor, buffer.baseAddress! + done, size - done)
                if got < 0 && errno == EINTR { continue }
                if got <= 0 {
                    failure = got == 0 ? "file shrank while reading (\(done) of \(size) bytes)" : errnoText()
                    break
                }
                done += got
            }
            initialized = done
        }
        if let failure { throw LoupeError.file(path: path, message: "read failed: \(failure)") }
        return bytes
    }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    static func isFile(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && !directory.boolValue
    }

    /// Names in `path`, hidden ones (starting with ".") left out, sorted.
    static func list(_ path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw LoupeError.file(path: path, message: "cannot list folder: \(error.localizedDescription)")
        }
    }

    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// `path` made absolute against the current directory, with `~` expanded.
    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return expanded }
        return join(FileManager.default.currentDirectoryPath, expanded)
    }

    static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw LoupeError.file(path: path, message: "cannot create folder: \(error.localizedDescription)")
        }
    }

    /// A fresh name for a temporary file beside `path`: `.<name>.partial-<pid>-<random>`.
    static func temporaryPath(beside path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        return join(folder, ".\(url.lastPathComponent).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// Moves `temporary` over `destination` in one step (`rename(2)`): readers see the old file
    /// or the new one, never a part.
    static func replace(_ destination: String, with temporary: String) throws {
        guard rename(temporary, destination) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw LoupeError.file(path: destination, message: "cannot move the new file into place: \(reason)")
        }
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        try LoupeCore.writeAtomically(Data(bytes), to: URL(fileURLWithPath: path))
    }

    static func remove(_ path: String) { unlink(path) }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
