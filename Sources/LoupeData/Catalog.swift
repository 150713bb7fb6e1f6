import Foundation
import LoupeCore

/// One file a catalog dataset is downloaded as.
public struct CatalogFile: Sendable, Equatable {
    /// The file's name in the dataset's folder.
    public var name: String
    /// Where it is published, tried in order.
    public var urls: [String]
    /// SHA-256 of the file as published.
    public var sha256: String
    /// SHA-256 of its gunzipped content, for copies recompressed on the way (Debian's
    /// Fashion-MNIST) or stored uncompressed; nil when unknown or not gzip.
    public var contentSHA256: String?

    public init(name: String, urls: [String], sha256: String, contentSHA256: String? = nil) {
        self.name = name
        self.urls = urls
        self.sha256 = sha256
        self.contentSHA256 = contentSHA256
    }
}

/// A named dataset: its format, class names, published files with their sums, and where
/// system packages install it, or the dataset it is derived from. A CIFAR-10 entry's published
/// `cifar-10-binary.tar.gz` is unpacked in its folder after download.
public struct CatalogEntry: Sendable, Equatable {
    public var name: String
    public var summary: String
    public var format: DatasetFormat
    /// Names for labels 0, 1, …; for a folder dataset they replace numeric folder names.
    public var classNames: [String]
    /// What to download; empty when the dataset has no public download.
    public var downloads: [CatalogFile]
    /// Folders where system packages put the dataset, checked after the data directory.
    public var systemLocations: [String]
    /// Where to find it by hand when it has no download.
    public var instructions: String
    /// How it is made from another catalog dataset when it has no download of its own.
    public var derivation: Derivation?

    public init(name: String, summary: String, format: DatasetFormat, classNames: [String],
                downloads: [CatalogFile], systemLocations: [String] = [], instructions: String = "",
                derivation: Derivation? = nil) {
        self.name = name
        self.summary = summary
        self.format = format
        self.classNames = classNames
        self.downloads = downloads
        self.systemLocations = systemLocations
        self.instructions = instructions
        self.derivation = derivation
    }
}

/// The outcome of checking one installed file against its published sum.
public enum FileStatus: Sendable, Equatable {
    /// The file's SHA-256 is the published one.
    case verified
    /// The file differs (recompressed or gunzipped) but its content's SHA-256 is the published one.
    case contentVerified
    case mismatch(expected: String, found: String)
    case missing
    /// Nothing published to check against (folder datasets, unpacked CIFAR-10 batches).
    case noChecksum
}

public struct FileCheck: Sendable, Equatable {
    public var path: String
    public var status: FileStatus
}

/// The catalog of named datasets and the data directory that holds them, one folder per
/// dataset: `<data directory>/mnist`, `<data directory>/cifar10-gray28`, …
///
/// The data directory is `$LOUPE_DATA`, else `$XDG_CACHE_HOME/loupe`, else `~/.cache/loupe`
/// (so `LOUPE_DATA=../shared/data` finds `../shared/data/cifar10-gray28`). A dataset is found in
/// its folder there, else where a system package installs it (Debian's `dataset-fashion-mnist`
/// at /usr/share/datasets/fashion-mnist). `fetch` downloads what is missing, verified by SHA-256,
/// or derives it from the dataset it is made from (`Derivation`).
/// The `loupe data list|get|verify` commands are this API.
public struct DatasetCatalog: Sendable {
    public var entries: [CatalogEntry]
    public var dataDirectory: String

    /// The standard catalog over `dataDirectory` (default: from `environment`, see above).
    public init(dataDirectory: String? = nil, entries: [CatalogEntry] = DatasetCatalog.standardEntries,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.entries = entries
        self.dataDirectory = Files.absolute(dataDirectory ?? Self.defaultDataDirectory(environment: environment))
    }

    /// `$LOUPE_DATA`, else `$XDG_CACHE_HOME/loupe`, else `$HOME/.cache/loupe`; relative paths
    /// resolve against the current directory (XDG requires an absolute `XDG_CACHE_HOME`, so a
    /// relative one is ignored).
    public static func defaultDataDirectory(environment: [String: String]) -> String {
        if let data = environment["LOUPE_DATA"], !data.isEmpty { return Files.absolute(data) }
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") { return Files.join(cache, "loupe") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return Files.join(Files.join(home, ".cache"), "loupe")
    }

    public func entry(named name: String) throws -> CatalogEntry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            var message = "unknown dataset '\(name)'"
            if let suggestion = closestName(name, among: entries.map(\.name)) { message += "; did you mean '\(suggestion)'?" }
            throw LoupeError.invalidArgument(name: "dataset", message: message + " The catalog has \(entries.map(\.name).joined(separator: ", "))")
        }
        return entry
    }

    /// The folder a download of `name` goes to: `<data directory>/<name>`.
    public func folder(for name: String) -> String { Files.join(dataDirectory, name) }

    /// Where `name` is installed completely: its folder in the data directory, else a system
    /// location; nil when neither holds every file.
    public func location(of name: String) throws -> String? {
        let entry = try entry(named: name)
        return ([folder(for: name)] + entry.systemLocations).first { Self.isComplete(entry, at: $0) }
    }

    /// Loads `split` of dataset `name` from where it is installed, through the one loader
    /// (`DatasetSource.catalog`). `channels` and `resize` apply to every format: gray datasets
    /// can be widened to RGB and color ones reduced to gray (luma).
    public func load(_ name: String, split: DatasetSplit, channels: ImageChannels = .automatic,
                     resize: ImageSize? = nil) throws -> Dataset {
        try DatasetSource.catalog(name, channels: channels, resize: resize).load(split, catalog: self)
    }

    /// Checks every published file of `name` where it is installed against its SHA-256 (and,
    /// for recompressed or gunzipped copies, the content's).
    public func verify(_ name: String) throws -> [FileCheck] {
        let entry = try entry(named: name)
        let folder = try location(of: name) ?? folder(for: name)
        switch entry.format {
        case .idx:
            return try entry.downloads.map { file in
                if let path = IDX.path(in: folder, file.name) {
                    return FileCheck(path: path, status: try Self.check(path, against: file))
                }
                return FileCheck(path: Files.join(folder, file.name), status: .missing)
            }
        case .cifar10:
            var checks = try entry.downloads.compactMap { file -> FileCheck? in
                let path = Files.join(folder, file.name)
                return Files.isFile(path) ? FileCheck(path: path, status: try Self.check(path, against: file)) : nil
            }
            let batches = CIFAR10.batchFolder(folder)
            for name in CIFAR10.trainingFiles + CIFAR10.testFiles {
                let path = Files.join(batches, name)
                checks.append(FileCheck(path: path, status: Files.isFile(path) ? .noChecksum : .missing))
            }
            return checks
        case .folder:
            return DatasetSplit.allCases.map { split in
                let path = (try? Dataset.splitFolder(root: folder, split: split)) ?? Files.join(folder, split.rawValue)
                return FileCheck(path: path, status: Files.isDirectory(path) ? .noChecksum : .missing)
            }
        }
    }

    /// Makes `name` available and returns its folder: an installed copy as it is, else each
    /// published file downloaded (skipping those already there with the right sum), verified and
    /// moved into `<data directory>/<name>`; CIFAR-10's archive is then unpacked. When a file
    /// cannot be fetched the error lists every file still missing, its URL and where to put it.
    /// A derived dataset fetches its source this way, then is derived from it (`derive`).
    /// `progress` hears what is being done, in lines for a person.
    @discardableResult
    public func fetch(_ name: String, downloader: Downloader = Downloader(),
                      progress: @Sendable (String) -> Void = { _ in }) async throws -> String {
        let entry = try entry(named: name)
        if let installed = try location(of: name) { return installed }
        if let derivation = entry.derivation {
            do {
                try await fetch(derivation.source, downloader: downloader, progress: progress)
            } catch let LoupeError.file(path, message) {
                throw LoupeError.file(path: path, message: "\(name) is derived from \(derivation.source), which is not available: \(message)")
            }
            return try derive(name, progress: progress)
        }
        guard !entry.downloads.isEmpty else { throw notInstalled(entry) }
        let folder = folder(for: name)
        var failures: [String] = []
        var missing: [CatalogFile] = []
        for file in entry.downloads {
            let path = Files.join(folder, file.name)
            if Files.isFile(path), (try? SHA256Sum.hex(fileAt: path)) == file.sha256 { continue }
            var fetched = false
            for url in file.urls {
                do {
                    progress("downloading \(url) to \(path)")
                    try await downloader.download(url, to: path, sha256: file.sha256)
                    fetched = true
                    break
                } catch let error as LoupeError {
                    if case let .file(_, message) = error { failures.append(message) } else { failures.append("\(error)") }
                }
            }
            if !fetched { missing.append(file) }
        }
        guard missing.isEmpty else {
            let wanted = missing.map { file in
                "  \(Files.join(folder, file.name))  from \(file.urls.joined(separator: " or "))  (SHA-256 \(file.sha256))"
            }
            throw LoupeError.file(path: folder, message: "could not download \(name):\n  " + failures.joined(separator: "\n  ")
                + "\nWithout a network, put these files there by hand:\n" + wanted.joined(separator: "\n"))
        }
        if entry.format == .cifar10, let archive = entry.downloads.first {
            progress("unpacking \(Files.join(folder, archive.name))")
            try CIFAR10.extractArchive(Files.join(folder, archive.name), into: folder)
        }
        guard Self.isComplete(entry, at: folder) else {
            throw LoupeError.file(path: folder, message: "\(name) is still incomplete after downloading")
        }
        return folder
    }

    /// The error for a dataset installed nowhere: where it was looked for and how to get it.
    func notInstalled(_ entry: CatalogEntry) -> LoupeError {
        let folder = folder(for: entry.name)
        let places = ([folder] + entry.systemLocations).joined(separator: ", ")
        var message = "dataset \(entry.name) not found (looked in \(places))."
        switch entry.format {
        case .idx, .cifar10:
            message += " Fetch it with `loupe data get \(entry.name)`, or put these files in \(folder):"
            for file in entry.downloads {
                message += "\n  \(file.name)  from \(file.urls.joined(separator: " or "))"
            }
        case .folder:
            if let derivation = entry.derivation {
                message += " Make it with `loupe data get \(entry.name)`, which derives it from \(derivation.source) (fetched first when missing)."
            }
            message += " " + entry.instructions
        }
        return LoupeError.file(path: folder, message: message)
    }

    private static func isComplete(_ entry: CatalogEntry, at folder: String) -> Bool {
        guard Files.isDirectory(folder) else { return false }
        switch entry.format {
        case .idx:
            return DatasetSplit.allCases.allSatisfy { split in
                let (images, labels) = IDX.fileNames(split)
                return IDX.path(in: folder, images) != nil && IDX.path(in: folder, labels) != nil
            }
        case .cifar10:
            let batches = CIFAR10.batchFolder(folder)
            return (CIFAR10.trainingFiles + CIFAR10.testFiles).allSatisfy { Files.isFile(Files.join(batches, $0)) }
        case .folder:
            return DatasetSplit.allCases.allSatisfy { (try? Dataset.splitFolder(root: folder, split: $0)) != nil }
        }
    }

    private static func check(_ path: String, against file: CatalogFile) throws -> FileStatus {
        let found = try SHA256Sum.hex(fileAt: path)
        if found == file.sha256 { return .verified }
        if let content = file.contentSHA256 {
            let bytes = try Files.readBytes(path)
            let inner = Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes, path: path) : bytes
            if SHA256Sum.hex(inner) == content { return .contentVerified }
        }
        return .mismatch(expected: file.sha256, found: found)
    }
}
