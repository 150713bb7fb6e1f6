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
            throw LoupeError.file(path: path, message: "cannot create folder: \(systemReason(error))")
        }
    }

    /// The system's reason inside a Foundation error ("Permission denied"), not its dump.
    static func systemReason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(ns.code))) : ns.localizedDescription
    }

    /// A fresh name for a temporary file or folder beside `path`:
    /// `.<name>.partial-<host>-<pid>-<random>`, hidden, so no reader takes it for the real one.
    static func temporaryPath(beside path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        return join(folder, ".\(url.lastPathComponent).partial-\(hostName())-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// The temporary files and folders `temporaryPath(beside: path)` named for processes of this
    /// host that are no longer running: what a killed writer left. A data directory may be
    /// shared by several machines, so another host's are never taken.
    static func abandonedTemporaries(beside path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let prefix = ".\(url.lastPathComponent).partial-\(hostName())-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { name in
            guard name.hasPrefix(prefix) else { return false }
            let fields = name.dropFirst(prefix.count).split(separator: "-")
            guard fields.count == 2, let pid = Int32(fields[0]), pid != getpid() else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }.map { join(folder, $0) }
    }

    /// Makes the folder `destination` all at once: `build` fills a temporary folder beside it
    /// (`temporaryPath`), which is flushed to disk and then renamed to `destination`. A process
    /// killed part-way leaves only the hidden temporary folder, never a part of `destination`;
    /// such leftovers of this host are removed first. When `build` throws, its folder is removed.
    /// `destination` must not exist, or be an empty folder.
    static func createFolderAtomically(_ destination: String, build: (String) throws -> Void) throws {
        if isFile(destination) || (isDirectory(destination) && !((try? list(destination)) ?? []).isEmpty) {
            throw LoupeError.file(path: destination, message: "already exists and is not a complete dataset: move it away, then run again")
        }
        let parent = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        try createDirectory(parent)
        for leftover in abandonedTemporaries(beside: destination) { removeTree(leftover) }
        let temporary = temporaryPath(beside: destination)
        try createDirectory(temporary)
        do {
            try build(temporary)
            flushToDisk()
            guard rename(temporary, destination) == 0 else {
                throw LoupeError.file(path: destination, message: "cannot move the new folder into place: \(errnoText())")
            }
        } catch {
            removeTree(temporary)
            throw error
        }
        flushToDisk()
    }

    /// Writes `bytes` to a new file at `path` (not atomically: for files inside a folder that
    /// `createFolderAtomically` builds).
    static func createFile(_ bytes: [UInt8], at path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw LoupeError.file(path: path, message: "cannot create: \(errnoText())") }
        defer { close(descriptor) }
        var done = 0
        while done < bytes.count {
            let wrote = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + done, bytes.count - done) }
            if wrote < 0 && errno == EINTR { continue }
            guard wrote > 0 else { throw LoupeError.file(path: path, message: "write failed: \(errnoText())") }
            done += wrote
        }
    }

    /// Flushes everything written so far to disk: one `sync(2)` for a folder of thousands of
    /// files, rather than an `fsync` each (4.5 ms apiece measured here: 50 s for 11,000 PNGs).
    /// (`syncfs`, limited to one file system, is not exported by Swift's Glibc module.)
    static func flushToDisk() {
        sync()
    }

    /// Removes `path` and everything under it; errors are ignored (for leftovers).
    static func removeTree(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "host" }
        let name = String(cString: buffer).replacingOccurrences(of: "-", with: "_")
        return name.isEmpty ? "host" : name
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
