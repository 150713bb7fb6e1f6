import Foundation

/// Writes `data` to a temporary file in `url`'s folder, then renames it over `url`, so a reader
/// never sees a half-written file and a crash leaves the previous version intact.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UInt64.random(in: 0...UInt64.max)).tmp")
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try data.write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            throw LoupeError.file(path: url.path, message: "cannot replace (\(String(cString: strerror(errno))))")
        }
    } catch let error as LoupeError {
        try? FileManager.default.removeItem(at: temporary)
        throw error
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw LoupeError.file(path: url.path, message: "cannot be written (\(error.localizedDescription))")
    }
}
