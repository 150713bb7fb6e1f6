import Foundation
import LoupeCore

/// The results folder's own files that many array tasks write at once (`experiment.yaml`, the
/// HParams experiment). Written as `writeAtomically` writes (a temporary file, fsync, rename, the
/// folder fsynced), but the temporary file's name carries the host and the process,
/// `.<name>.<host>.<pid>.<random>.tmp`, so that a task can remove what a task killed on its host
/// left, and never a live writer's file (on this host or another sharing the folder).
enum SharedFolderFile {
    /// This host's name with only letters, digits and dashes (the name's parts are dot-separated).
    static let host = String((ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host")
        .map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })

    static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(host).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp")
        func failure(_ what: String) -> LoupeError { .file(path: url.path, message: "\(what) (\(String(cString: strerror(errno))))") }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw failure("cannot be written: its temporary file cannot be created") }
        do {
            defer { close(descriptor) }
            try data.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { throw failure("cannot be written") }
                    offset += written
                }
            }
            guard fsync(descriptor) == 0 else { throw failure("cannot be flushed to disk") }
            guard rename(temporary.path, url.path) == 0 else { throw failure("cannot replace") }
        } catch {
            unlink(temporary.path)
            throw error
        }
        let folderDescriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }

    /// Removes the temporary files of `write` in `folder` whose writer ran on this host and is
    /// no longer running (killed mid-write).
    static func removeLeftoversOfDeadWriters(in folder: URL) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            let parts = name.dropFirst().dropLast(4).split(separator: ".")
            guard parts.count >= 4, parts[parts.count - 3] == host, let pid = Int32(parts[parts.count - 2]), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder.appendingPathComponent(name).path) }
        }
    }
}
