import Foundation

/// Writes `data` to a temporary file in `url`'s folder (`.<name>.<pid>.<random>.tmp`), flushes it
/// to disk, then renames it over `url` and flushes the folder, so a reader never sees a
/// half-written file and a crash leaves the previous version intact. A crash leaves the
/// temporary file behind; `AtomicFile.removeLeftovers` removes it at the next start. Errors are
/// `LoupeError.file` naming `url`.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(AtomicFile.temporaryName(for: url.lastPathComponent))
    let crash = AtomicFile.faultInjection.get()?.stage(url)
    func failure(_ what: String) -> LoupeError {
        .file(path: url.path, message: "\(what) (\(String(cString: strerror(errno))))")
    }
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw failure("cannot be written: its temporary file cannot be created") }
        defer { close(descriptor) }
        let length = crash == .midWrite ? data.count / 2 : data.count
        try data.prefix(length).withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { throw failure("cannot be written") }
                offset += written
            }
        }
        if let crash, crash == .midWrite || crash == .beforeFsync { throw AtomicFile.InjectedCrash(stage: crash, url: url) }
        guard fsync(descriptor) == 0 else { throw failure("cannot be flushed to disk") }
        if crash == .beforeRename { throw AtomicFile.InjectedCrash(stage: .beforeRename, url: url) }
        guard rename(temporary.path, url.path) == 0 else { throw failure("cannot replace") }
    } catch let crash as AtomicFile.InjectedCrash {
        throw crash  // as a crash would: the temporary file stays
    } catch {
        unlink(temporary.path)
        if let error = error as? LoupeError { throw error }
        throw LoupeError.file(path: url.path, message: "cannot be written (\(error.localizedDescription))")
    }
    // The rename is durable once the folder's entry is on disk; a failure here loses nothing
    // that a reader could see.
    let folderDescriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folderDescriptor >= 0 {
        fsync(folderDescriptor)
        close(folderDescriptor)
    }
}

/// The atomic writer's temporary files and the seam tests use to crash it part-way.
public enum AtomicFile {
    /// `.<name>.<pid>.<random>.tmp`: hidden, beside the file it replaces, unique per write.
    static func temporaryName(for name: String) -> String {
        ".\(name).\(ProcessInfo.processInfo.processIdentifier).\(UInt64.random(in: 0...UInt64.max)).tmp"
    }

    /// The name of the file a temporary file of `writeAtomically` was to replace, or nil when
    /// `name` is not such a temporary file.
    public static func finalName(ofLeftover name: String) -> String? {
        guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return nil }
        let parts = name.dropFirst().dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.suffix(2).allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return nil }
        let final = parts.dropLast(2).joined(separator: ".")
        return final.isEmpty ? nil : final
    }

    /// Removes the temporary files a crash of `writeAtomically` left in `folder` (not its
    /// sub-folders): every one, or only those that were to replace one of `names`. Returns the
    /// names removed. Call it where nothing else writes into `folder` at the same time: a
    /// trial's folder when it resumes, a report's when the report is written again.
    @discardableResult
    public static func removeLeftovers(in folder: URL, replacing names: Set<String>? = nil) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var removed: [String] = []
        for entry in entries.sorted() {
            guard let final = finalName(ofLeftover: entry), names?.contains(final) ?? true else { continue }
            if unlink(folder.appendingPathComponent(entry).path) == 0 { removed.append(entry) }
        }
        return removed
    }

    /// Where an injected crash stops a write.
    @_spi(FaultInjection)
    public enum Stage: String, Sendable, CaseIterable {
        /// Half the bytes are in the temporary file.
        case midWrite
        /// Every byte is written, not yet flushed to disk.
        case beforeFsync
        /// Flushed, not yet renamed over the final name.
        case beforeRename
    }

    /// What an injected crash throws. `writeAtomically` leaves the temporary file behind, as a
    /// killed process would.
    @_spi(FaultInjection)
    public struct InjectedCrash: Error, Equatable, CustomStringConvertible {
        public let stage: Stage
        public let url: URL
        public init(stage: Stage, url: URL) {
            self.stage = stage
            self.url = url
        }
        public var description: String { "injected crash \(stage.rawValue) writing \(url.path)" }
    }

    /// Tests only: which write crashes where. `stage(for:)` is asked once per
    /// `writeAtomically` (and per run-index transaction) with the final file's URL; a stage
    /// makes that write stop there and throw `InjectedCrash`.
    @_spi(FaultInjection)
    public struct FaultInjection: Sendable {
        public let stage: @Sendable (URL) -> Stage?
        public init(_ stage: @escaping @Sendable (URL) -> Stage?) { self.stage = stage }
    }

    /// Tests only: the `FaultInjection` in force, bound with
    /// `AtomicFile.faultInjection.withValue(FaultInjection { … }) { … }`. A task-local, so it
    /// reaches only the writes made on that task's thread, never another test's. (Spelled out
    /// rather than `@TaskLocal`, whose generated `$` accessor cannot be SPI.)
    @_spi(FaultInjection)
    public static let faultInjection = TaskLocal<FaultInjection?>(wrappedValue: nil)
}
