import Foundation
import LoupeCore
import LoupeData

/// An experiment file, validated and expanded into its trials. Nothing runs until every trial's
/// settings have been checked; any error names the key and its line (or the `--set` flag).
public struct Experiment: Sendable {
    /// The file's path, and its text as given (copied into the results folder).
    public let path: String
    public let text: String
    public let name: String
    public let trials: [Trial]
    /// The `--set` overrides applied, as given (`train.steps=100`).
    public let overrides: [String]
    /// The experiment as run: the file's tree with the overrides applied (written to the results
    /// folder as `experiment.yaml`, compared on `--resume`).
    public let effective: ConfigNode
    /// What the overrides did that a user might not expect (an override of a swept key replaces
    /// that axis), one sentence each.
    public let notes: [String]

    /// Reads `path`, applies `overrides` (`train.steps=100`, values in YAML syntax), expands the
    /// sweep and validates every trial.
    public static func load(path: String, overrides: [String] = []) throws -> Experiment {
        let text: String
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw LoupeError.file(path: path, message: "does not exist: give the experiment file (YAML)")
        }
        guard !isFolder.boolValue else { throw LoupeError.file(path: path, message: "is a folder; give the experiment file (YAML)") }
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw LoupeError.file(path: path, message: FileManager.default.isReadableFile(atPath: path)
                ? "is not UTF-8 text" : "cannot be read (permission denied)")
        }
        return try parse(text: text, path: path, overrides: overrides)
    }

    public static func parse(text: String, path: String, overrides: [String] = []) throws -> Experiment {
        var tree = try ConfigNode.parse(yaml: text, file: path)
        var notes: [String] = []
        for override in overrides {
            guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
                throw LoupeError.config(key: "--set \(override)", message: "must be KEY=VALUE, e.g. train.steps=100")
            }
            let key = String(override[..<equals]), value = String(override[override.index(after: equals)...])
            let node = try ConfigNode.parse(yaml: value.isEmpty ? "\"\"" : value, file: "--set \(key)")
            let replaced = SweepOverride.apply(key: key, value: node, to: tree)
            tree = replaced.tree
            notes += replaced.notes
        }
        // The top level is checked first, so a typo in a section name is reported as such.
        let top = try ConfigReader(tree, path: "", section: "")
        let name = try top.string("name") ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let variations = try Sweep(top.child("sweep"))
        var base = tree
        // `reference:` is for the report (published results), not a trial's setting.
        _ = try ReferenceResult.read(top.child("reference"))
        if case let .mapping(pairs, source) = tree { base = .mapping(pairs.filter { !["sweep", "name", "reference"].contains($0.key) }, source) }
        var trials: [Trial] = []
        var seen = Set<String>()
        for (index, variation) in variations.combinations.enumerated() {
            var trialTree = base
            for (key, value) in variation { trialTree = trialTree.setting(key, to: value) }
            let config = try TrialConfig(trialTree)
            let settings = variation.map { ($0.key, Self.text(of: $0.value)) }
            let trial = Trial(index: index, settings: settings, tree: trialTree, config: config)
            guard seen.insert(trial.id).inserted else {
                throw LoupeError.config(key: "sweep", message: "two trials have the same settings (\(settings.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")))")
            }
            trials.append(trial)
        }
        return Experiment(path: path, text: text, name: name, trials: trials, overrides: overrides, effective: tree, notes: notes)
    }

    static func text(of node: ConfigNode) -> String {
        if case let .scalar(text, _) = node { return text }
        return node.yaml().trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// One run of the experiment: the base settings with the sweep's values applied.
public struct Trial: Sendable {
    /// Its place in the expanded sweep (`loupe trials`, `loupe run --trial INDEX`): a function of
    /// the effective experiment only (see `Sweep`).
    public let index: Int
    /// The sweep's values for this trial, in axis order (`optimizer.name` → `adam`, …, `train.seed`).
    public let settings: [(key: String, value: String)]
    /// The resolved settings as a tree (written to the trial's `config.yaml`).
    public let tree: ConfigNode
    public let config: TrialConfig
    /// Stable id: the varying settings in short form, then 8 hex digits of the SHA-256 of the
    /// resolved settings, so that equal settings always give the same id and any change a new one.
    public let id: String

    init(index: Int, settings: [(key: String, value: String)], tree: ConfigNode, config: TrialConfig) {
        self.index = index
        self.settings = settings
        self.tree = tree
        self.config = config
        let digest = SHA256Sum.hex(Array(tree.yaml().utf8))
        let slug = settings.map { key, value -> String in
            let short = key.split(separator: ".").last.map(String.init) ?? key
            return "\(["name", "model", "dataset"].contains(short) ? "" : short)\(value)"
        }.joined(separator: "-")
        let safe = String(slug.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }.prefix(60))
        id = (safe.isEmpty ? "" : safe + "-") + String(digest.prefix(8))
    }

    /// `settings` as a dictionary, for summaries.
    public var settingsDictionary: [String: String] {
        Dictionary(settings.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    }
}

/// `sweep:` — axes (`optimizer.lr: [1e-3, 1e-4]`), `seeds: [0, 1, 2]` and `include:` (extra
/// configurations, each a mapping of dotted keys to values). The trials are the grid of the axes
/// (or one empty configuration) plus the included ones, each repeated for every seed.
///
/// Their order (the trial indices of array jobs) is: seed by seed, in the order `seeds` lists
/// them; within a seed, the grid with the first axis varying slowest, then the included
/// configurations in their order. So adding a seed at the end of `seeds` appends trials and keeps
/// every earlier index; adding an axis value or an included configuration shifts indices (no
/// order can keep every index for every addition to a grid of two axes or more), but never an
/// id: `loupe trials FILE --out DIR` says which indices moved since DIR's trials ran.
struct Sweep {
    var combinations: [[(key: String, value: ConfigNode)]] = []

    init(_ node: ConfigNode?) throws {
        guard let node else {
            combinations = [[]]
            return
        }
        guard case let .mapping(pairs, _) = node else {
            throw LoupeError.config(key: "sweep", message: "must be a mapping of axes to lists (\(node.source))")
        }
        var grid: [[(key: String, value: ConfigNode)]] = [[]]
        var included: [[(key: String, value: ConfigNode)]] = []
        var seeds: [ConfigNode]?
        var hasAxes = false
        for (key, value) in pairs {
            switch key {
            case "seeds":
                guard case let .sequence(items, _) = value, !items.isEmpty else {
                    throw LoupeError.config(key: "sweep.seeds", message: "must be a non-empty list of seeds (\(value.source))")
                }
                seeds = items
            case "include":
                guard case let .sequence(items, _) = value else {
                    throw LoupeError.config(key: "sweep.include", message: "must be a list of mappings (\(value.source))")
                }
                for item in items {
                    guard case let .mapping(entries, _) = item, !entries.isEmpty else {
                        throw LoupeError.config(key: "sweep.include", message: "each entry must map keys to values (\(item.source))")
                    }
                    included.append(entries)
                }
            default:
                guard case let .sequence(items, _) = value, !items.isEmpty else {
                    throw LoupeError.config(key: "sweep.\(key)", message: "an axis must be a non-empty list of values (\(value.source))")
                }
                hasAxes = true
                grid = grid.flatMap { combination in items.map { combination + [(key, $0)] } }
            }
        }
        let base = hasAxes || included.isEmpty ? grid : []
        let all = base + included
        if let seeds {
            combinations = seeds.flatMap { seed in all.map { $0 + [("train.seed", seed)] } }
        } else {
            combinations = all
        }
    }
}
