import ArgumentParser
import Foundation
import LoupeCore
import LoupeLab

/// `loupe merge DIR… --out DIR`: joins results folders written on many machines (or by many
/// array tasks into folders of their own) into one, then rebuilds its run index.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join results folders (e.g. from many machines) into one and rebuild its run index.",
        discussion: """
            Every finished trial (completed or diverged) of every folder is copied into --out's trials/, each folder \
            whole, under a temporary name, then renamed. A trial id found in more than one place must hold the same \
            results everywhere (status, steps, accuracy, losses, metrics rows and weights.safetensors byte for byte; \
            times and thread counts may differ): if one differs, nothing is written and the ids are named. Unfinished \
            trials are not copied (loupe sweep status lists them to resubmit). The experiment file and the HParams \
            experiment of the first folder holding them are copied when --out has none.
            """)

    @Argument(help: "Results folders written by loupe run.") var directories: [String]
    @Option(help: "The folder to merge into (created when missing; may be one of the folders).") var out: String

    struct Candidate {
        var folder: ExperimentLayout
        var summary: TrialSummary
        var trial: TrialLayout { folder.trial(summary.id) }
    }

    func run() throws {
        do {
            guard !directories.isEmpty else { throw LoupeError.invalidArgument(name: "loupe merge", message: "give the results folders to merge") }
            let target = ExperimentLayout(root: URL(fileURLWithPath: out).standardizedFileURL)
            let sources = directories.map { ExperimentLayout(root: URL(fileURLWithPath: $0).standardizedFileURL) }
            var found: [String: [Candidate]] = [:], order: [String] = [], unfinished: Set<String> = []
            for source in sources {
                guard FileManager.default.fileExists(atPath: source.trialsFolder.path) else {
                    throw LoupeError.file(path: source.trialsFolder.path, message: "missing: not a results folder of loupe run")
                }
            }
            // What --out holds already counts as a copy too.
            let present = FileManager.default.fileExists(atPath: target.trialsFolder.path) && !sources.contains { $0.root == target.root }
            for source in sources + (present ? [target] : []) {
                for id in try source.trialIDs() {
                    let url = source.trial(id).summary
                    guard FileManager.default.fileExists(atPath: url.path) else { unfinished.insert(id); continue }
                    let summary = try TrialSummary.read(url)
                    guard summary.status == .completed || summary.status == .diverged else { unfinished.insert(id); continue }
                    guard summary.id == id else { throw LoupeError.file(path: url.path, message: "is the summary of trial \(summary.id), in folder \(id)") }
                    if found[id] == nil { order.append(id) }
                    if !(found[id]?.contains { $0.folder.root == source.root } ?? false) { found[id, default: []].append(Candidate(folder: source, summary: summary)) }
                }
            }
            // Every conflict is found before anything is written.
            var conflicts: [String] = []
            for id in order {
                let candidates = found[id]!
                for other in candidates.dropFirst() where try !sameResults(candidates[0], other) {
                    conflicts.append("\(id) (\(candidates[0].folder.root.path) and \(other.folder.root.path))")
                }
            }
            guard conflicts.isEmpty else {
                throw LoupeError.file(path: target.root.path, message: "not merged: \(conflicts.count) trial id\(conflicts.count == 1 ? "" : "s") found twice with different results: \(conflicts.joined(separator: "; ")). Nothing was written")
            }
            let fm = FileManager.default
            try fm.createDirectory(at: target.trialsFolder, withIntermediateDirectories: true)
            var copied = 0
            for id in order {
                let candidates = found[id]!
                if candidates.contains(where: { $0.folder.root == target.root }) { continue }
                try copyTrial(candidates[0].trial.root, into: target, id: id)
                copied += 1
            }
            if !fm.fileExists(atPath: target.experimentFile.path),
               let first = sources.first(where: { fm.fileExists(atPath: $0.experimentFile.path) }) {
                try writeAtomically(try Data(contentsOf: first.experimentFile), to: target.experimentFile)
                let events = try fm.contentsOfDirectory(atPath: first.root.path).filter { $0.hasPrefix("events.out.tfevents.") }
                let present = try fm.contentsOfDirectory(atPath: target.root.path).contains { $0.hasPrefix("events.out.tfevents.") }
                if !present, let newest = events.sorted().last {
                    try writeAtomically(try Data(contentsOf: first.root.appendingPathComponent(newest)), to: target.root.appendingPathComponent(newest))
                }
            }
            let texts = Set(sources.compactMap { try? Data(contentsOf: $0.experimentFile) })
            if texts.count > 1 { print("note: the folders' experiment.yaml differ; \(target.experimentFile.path) is the first folder's") }
            try RunStore.rebuild(target)
            let left = unfinished.subtracting(order)
            print("Merged \(order.count) finished trial\(order.count == 1 ? "" : "s") into \(target.root.path) (\(copied) copied, \(order.count - copied) already there)")
            if !left.isEmpty {
                print("Not merged: \(left.count) unfinished trial\(left.count == 1 ? "" : "s") (run them again; loupe sweep status \(target.root.path) lists what to resubmit): \(left.sorted().prefix(5).joined(separator: ", "))\(left.count > 5 ? ", …" : "")")
            }
        } catch { fail(error) }
    }

    /// The results of two copies of a trial agree: the summary apart from times and thread count
    /// (and the index, which depends on the sweep around it), every metrics row apart from its
    /// seconds, and the weights file byte for byte.
    func sameResults(_ a: Candidate, _ b: Candidate) throws -> Bool {
        func normal(_ summary: TrialSummary) -> TrialSummary {
            var summary = summary
            summary.seconds = 0
            summary.threads = nil
            summary.index = nil
            return summary
        }
        guard normal(a.summary) == normal(b.summary) else { return false }
        func rows(_ trial: TrialLayout) throws -> [[UInt64]] {
            guard FileManager.default.fileExists(atPath: trial.metrics.path) else { return [] }
            return try MetricRow.read(trial.metrics).map { [UInt64($0.step), $0.loss.bitPattern, $0.accuracy.bitPattern, $0.learningRate.bitPattern] }
        }
        guard try rows(a.trial) == rows(b.trial) else { return false }
        let weights = [a.trial.weights, b.trial.weights].map { FileManager.default.contents(atPath: $0.path) }
        return weights[0] == weights[1]
    }

    /// Copies a trial folder (not its lock, not temporary files) under a temporary name, then
    /// renames it into place, replacing an unfinished folder of that id.
    func copyTrial(_ source: URL, into target: ExperimentLayout, id: String) throws {
        let fm = FileManager.default
        let staging = target.trialsFolder.appendingPathComponent(".\(id).merge.\(getpid()).tmp")
        try? fm.removeItem(at: staging)
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            for name in try fm.contentsOfDirectory(atPath: source.path) where AtomicFile.finalName(ofLeftover: name) == nil && name != "checkpoint.safetensors" {
                try fm.copyItem(at: source.appendingPathComponent(name), to: staging.appendingPathComponent(name))
            }
            let destination = target.trial(id).root
            if fm.fileExists(atPath: destination.path) {
                let old = target.trialsFolder.appendingPathComponent(".\(id).replaced.\(getpid()).tmp")
                try fm.moveItem(at: destination, to: old)
                try? fm.removeItem(at: old)
            }
            guard rename(staging.path, destination.path) == 0 else {
                throw LoupeError.file(path: destination.path, message: "cannot be written (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? fm.removeItem(at: staging)
            if let error = error as? LoupeError { throw error }
            throw LoupeError.file(path: target.trial(id).root.path, message: "cannot be copied from \(source.path) (\(error.localizedDescription))")
        }
    }
}
