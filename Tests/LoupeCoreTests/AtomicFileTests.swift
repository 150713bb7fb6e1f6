import Foundation
@_spi(FaultInjection) import LoupeCore
import Testing

private func scratchFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-core-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func names(in folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
}

/// Writes `data` to `url` with a crash injected at `stage` into every write of that file.
private func crashingWrite(_ data: Data, to url: URL, at stage: AtomicFile.Stage) throws {
    try AtomicFile.faultInjection.withValue(AtomicFile.FaultInjection { $0 == url ? stage : nil }) {
        try writeAtomically(data, to: url)
    }
}

@Suite struct AtomicFileTests {
    /// A crash at any stage leaves the previous version, whole, under the final name, and the
    /// temporary file beside it (with half the new bytes after `midWrite`), which
    /// `removeLeftovers` then removes, touching nothing else.
    @Test(arguments: AtomicFile.Stage.allCases)
    func aCrashLeavesThePreviousVersionAndATemporaryFile(stage: AtomicFile.Stage) throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("summary.json")
        let previous = Data("version 1".utf8), next = Data("version 2, a longer one".utf8)
        try writeAtomically(previous, to: url)
        #expect(names(in: folder) == ["summary.json"])
        let other = folder.appendingPathComponent("other.txt")
        try AtomicFile.faultInjection.withValue(AtomicFile.FaultInjection { $0 == url ? stage : nil }) {
            try writeAtomically(Data("untouched".utf8), to: other)  // another file's write goes through
        }
        #expect(throws: AtomicFile.InjectedCrash(stage: stage, url: url)) { try crashingWrite(next, to: url, at: stage) }
        #expect(try Data(contentsOf: url) == previous)
        let leftovers = names(in: folder).filter { $0.hasPrefix(".") }
        try #require(leftovers.count == 1, "\(names(in: folder))")
        #expect(leftovers[0].hasPrefix(".summary.json.\(ProcessInfo.processInfo.processIdentifier).") && leftovers[0].hasSuffix(".tmp"))
        let temporary = try Data(contentsOf: folder.appendingPathComponent(leftovers[0]))
        #expect(temporary == (stage == .midWrite ? next.prefix(next.count / 2) : next))

        // Not leftovers: hidden files and .tmp files of other shapes.
        for name in [".hidden", "notes.tmp", ".summary.json.tmp", ".x.12.tmp", ".x.12.ab.tmp"] {
            try Data().write(to: folder.appendingPathComponent(name))
        }
        #expect(AtomicFile.removeLeftovers(in: folder, replacing: ["weights.safetensors"]).isEmpty)
        #expect(AtomicFile.removeLeftovers(in: folder) == leftovers)
        #expect(names(in: folder) == [".hidden", ".summary.json.tmp", ".x.12.ab.tmp", ".x.12.tmp", "notes.tmp", "other.txt", "summary.json"])
        #expect(try Data(contentsOf: url) == previous)
        try writeAtomically(next, to: url)
        #expect(try Data(contentsOf: url) == next)
    }

    /// A crash during the first write of a file leaves no file under its name.
    @Test(arguments: AtomicFile.Stage.allCases)
    func aCrashOnTheFirstWriteLeavesNoFile(stage: AtomicFile.Stage) throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("checkpoint.safetensors")
        #expect(throws: AtomicFile.InjectedCrash.self) { try crashingWrite(Data(count: 100_000), to: url, at: stage) }
        #expect(!FileManager.default.fileExists(atPath: url.path))
        #expect(AtomicFile.removeLeftovers(in: folder).count == 1)
        #expect(names(in: folder).isEmpty)
    }

    /// A write that fails of itself (here, its folder is a file) removes its temporary file and
    /// names the final file.
    @Test func aFailedWriteNamesTheFileAndLeavesNothing() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("report.html")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)  // a folder in the way
        #expect { try writeAtomically(Data("page".utf8), to: url) } throws: { error in
            guard case let LoupeError.file(path, message) = error else { return false }
            return path == url.path && message.contains("cannot replace")
        }
        #expect(names(in: folder) == ["report.html"])
    }

    @Test func leftoverNamesGiveTheFileTheyWereToReplace() {
        #expect(AtomicFile.finalName(ofLeftover: ".summary.json.4242.17.tmp") == "summary.json")
        #expect(AtomicFile.finalName(ofLeftover: ".events.out.tfevents.1.host.9.123.tmp") == "events.out.tfevents.1.host")
        #expect(AtomicFile.finalName(ofLeftover: "summary.json.4242.17.tmp") == nil)
        #expect(AtomicFile.finalName(ofLeftover: "..1.2.tmp") == nil)
        #expect(AtomicFile.finalName(ofLeftover: ".a.1.2") == nil)
    }
}
