import Foundation
import LoupeCore

/// Loupe's version, recorded with every experiment it runs and printed by `loupe --version`.
public enum LoupeVersion {
    public static let current = "0.9.0"
}

/// What an experiment folder's results were produced by: the experiment file (its path and its
/// text as given), the `--set` overrides, the command line, Loupe's version, the kernel policy
/// and the worker threads, and the effective settings (the file with the overrides applied,
/// flattened to dotted keys). Written atomically to `DIR/experiment.json` before any trial runs;
/// `--resume` compares its settings and kernels with the new run's and refuses a difference, so
/// one folder never mixes trials of two experiments.
public struct EffectiveExperiment: Codable, Sendable, Equatable {
    /// The experiment's `name:` (else the file's name).
    public var name: String
    /// The experiment file's path as given on the command line, and its text.
    public var file: String
    public var fileText: String
    public var overrides: [String]
    public var commandLine: [String]
    public var loupeVersion: String
    /// The kernels the trials run on (they agree only to rounding, so a result depends on them).
    public var kernels: KernelPolicy
    /// Worker threads of each trial's parallel loops (results do not depend on it).
    public var threads: Int
    /// The effective experiment as dotted keys (`optimizer.lr`, `sweep.optimizer.name`,
    /// `model.layers.0.filters`) to their values as YAML text.
    public var settings: [String: String]
    /// What the overrides replaced (see `SweepOverride`).
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case name, file, overrides, kernels, threads, settings, notes
        case fileText = "file_text", commandLine = "command_line", loupeVersion = "loupe_version"
    }

    public init(_ experiment: Experiment, commandLine: [String] = CommandLine.arguments, kernels: KernelPolicy,
                threads: Int = computeThreads) {
        name = experiment.name
        file = experiment.path
        fileText = experiment.text
        overrides = experiment.overrides
        self.commandLine = commandLine
        loupeVersion = LoupeVersion.current
        self.kernels = kernels
        self.threads = threads
        settings = experiment.effective.flattened()
        notes = experiment.notes
    }

    /// The command line as one line a shell reads back the same (arguments quoted when needed).
    public var commandText: String { Self.shellLine(commandLine) }

    public static func shellLine(_ arguments: [String]) -> String {
        arguments.map { argument in
            argument.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=+,:@".contains($0) }) && !argument.isEmpty
                ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }

    /// Where the experiment differs from `other` in what decides results: each differing
    /// setting (`optimizer.lr: 0.001 here, 0.01 there`) and the kernel policy. Numbers compare
    /// as numbers (`1e-3` equals `0.001`); the command line, threads and version do not count.
    public func differences(from other: EffectiveExperiment) -> [String] {
        var lines: [String] = []
        for key in Set(settings.keys).union(other.settings.keys).sorted() {
            let mine = settings[key], theirs = other.settings[key]
            if let mine, let theirs, Self.sameValue(mine, theirs) { continue }
            lines.append("\(key): \(mine ?? "unset") in the folder, \(theirs ?? "unset") now")
        }
        if kernels != other.kernels { lines.append("kernels: \(kernels) in the folder, \(other.kernels) now") }
        return lines
    }

    static func sameValue(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        if let x = Double(a), let y = Double(b) { return x == y }
        return false
    }

    public static func read(_ url: URL) throws -> EffectiveExperiment {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw LoupeError.file(path: url.path, message: "cannot be read") }
        do { return try JSONDecoder().decode(EffectiveExperiment.self, from: data) } catch {
            throw LoupeError.file(path: url.path, message: "is not an experiment record of loupe run")
        }
    }

    public func write(to url: URL) throws { try writeAtomically(try encoded(), to: url) }

    /// The record as `experiment.json` holds it.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

extension ConfigNode {
    /// The tree's leaves by dotted key. A list of scalars is one value (`[adam, sgd]`); a list
    /// of mappings is numbered (`model.layers.0.type`). Sweep axes keep their dotted names
    /// (`sweep.optimizer.lr`).
    public func flattened() -> [String: String] {
        var result: [String: String] = [:]
        func visit(_ node: ConfigNode, _ prefix: String) {
            switch node {
            case let .scalar(text, _):
                result[prefix] = text
            case let .sequence(items, _):
                if items.allSatisfy({ if case .scalar = $0 { return true } else { return false } }) {
                    result[prefix] = node.yaml()
                } else {
                    for (index, item) in items.enumerated() { visit(item, prefix.isEmpty ? "\(index)" : "\(prefix).\(index)") }
                }
            case let .mapping(pairs, _):
                if pairs.isEmpty && !prefix.isEmpty { result[prefix] = "{}" }
                for (key, value) in pairs { visit(value, prefix.isEmpty ? key : "\(prefix).\(key)") }
            }
        }
        visit(self, "")
        return result
    }
}

extension EffectiveExperiment {
    /// Throws, naming every key that differs, when `layout`'s folder records another experiment
    /// than this one; a folder without a record (nothing run yet) passes.
    public func checkResumable(in layout: ExperimentLayout) throws {
        guard FileManager.default.fileExists(atPath: layout.effectiveExperimentFile.path) else { return }
        let recorded = try Self.read(layout.effectiveExperimentFile)
        let differences = recorded.differences(from: self)
        guard !differences.isEmpty else { return }
        throw LoupeError.file(path: layout.root.path, message: "holds results of a different experiment, so --resume would mix the two:\n  "
            + differences.joined(separator: "\n  ")
            + "\nResume with the same file and --set values (the folder's were: \(recorded.commandText)), or use another --out.")
    }

    /// Writes `experiment.yaml` (the effective experiment, overrides applied) and
    /// `experiment.json` (this record), each atomically.
    public func write(_ experiment: Experiment, into layout: ExperimentLayout) throws {
        try writeAtomically(Data(effectiveYAML(experiment).utf8), to: layout.experimentFile)
        try write(to: layout.effectiveExperimentFile)
    }

    /// `experiment.yaml`: the effective experiment, with a comment saying what it came from.
    public func effectiveYAML(_ experiment: Experiment) -> String {
        "# The experiment as run: \(file) with the overrides applied (\(overrides.isEmpty ? "none" : overrides.joined(separator: " "))).\n"
            + experiment.effective.yaml().trimmingCharacters(in: .newlines) + "\n"
    }
}
