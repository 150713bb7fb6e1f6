import Foundation
import LoupeCore
import LoupeLab
import LoupeNN

/// What one trial left in its folder, as the report needs it (see `ExperimentLayout`).
struct TrialResult: Sendable {
    /// The folder name (the trial's id, unless the folder was copied or renamed).
    var id: String
    var summary: TrialSummary
    /// `metrics.csv`, empty when the trial logged nothing.
    var metrics: [MetricRow]
    /// The first layer's filters from `weights.safetensors`, when the file exists.
    var firstLayer: (name: String, filters: Tensor)?
    /// The same filters as initialised (`initial-filters.safetensors`), when the trial kept them.
    var initialFirstLayer: Tensor?
    /// The trial's resolved settings (`config.yaml`) by dotted key; empty when it has none.
    var config: [String: String] = [:]
    /// `evaluations.csv`: test (and validation) accuracy during training; empty when none.
    var evaluations: [EvaluationRow] = []
}

/// An experiment folder read whole: the experiment file's text and every trial.
struct ExperimentResults: Sendable {
    var directory: URL
    /// `experiment.yaml` (the effective experiment; the file as given in folders of older
    /// versions), nil when the folder has none.
    var experimentText: String?
    /// `experiment.json`: what produced the results, nil in folders of older versions.
    var record: EffectiveExperiment?
    /// In folder-name order.
    var trials: [TrialResult]

    /// Reads `directory`; throws `LoupeError.file` naming the folder or file at fault.
    static func read(_ directory: URL) throws -> ExperimentResults {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isFolder) else {
            throw LoupeError.file(path: directory.path, message: "does not exist")
        }
        guard isFolder.boolValue else { throw LoupeError.file(path: directory.path, message: "is not a folder") }
        let layout = ExperimentLayout(root: directory)
        let ids: [String]
        do { ids = try layout.trialIDs() } catch {
            throw LoupeError.file(path: layout.trialsFolder.path, message: "cannot be listed (\(error.localizedDescription))")
        }
        guard !ids.isEmpty else {
            throw LoupeError.file(path: layout.trialsFolder.path, message: "holds no trials (run `loupe run` with --out \(directory.path) first)")
        }
        var experimentText: String?
        if FileManager.default.fileExists(atPath: layout.experimentFile.path) {
            do { experimentText = try String(contentsOf: layout.experimentFile, encoding: .utf8) } catch {
                throw LoupeError.file(path: layout.experimentFile.path, message: "cannot be read as UTF-8 text")
            }
        }
        var record: EffectiveExperiment?
        if FileManager.default.fileExists(atPath: layout.effectiveExperimentFile.path) {
            record = try EffectiveExperiment.read(layout.effectiveExperimentFile)
        }
        let trials = withEverySettingThatVaries(try ids.map { try readTrial($0, layout.trial($0)) })
        return ExperimentResults(directory: directory, experimentText: experimentText, record: record, trials: trials)
    }

    static func readTrial(_ id: String, _ layout: TrialLayout) throws -> TrialResult {
        guard FileManager.default.fileExists(atPath: layout.summary.path) else {
            throw LoupeError.file(path: layout.summary.path, message: "is missing: every trial folder needs a summary")
        }
        let summary = try TrialSummary.read(layout.summary)
        let metrics = FileManager.default.fileExists(atPath: layout.metrics.path) ? try MetricRow.read(layout.metrics) : []
        var firstLayer: (name: String, filters: Tensor)?
        if FileManager.default.fileExists(atPath: layout.weights.path) {
            firstLayer = firstLayerFilters(in: try Safetensors.read(layout.weights).tensors)
        }
        var initial: Tensor?
        if let firstLayer, FileManager.default.fileExists(atPath: layout.initialFilters.path),
           let tensor = try Safetensors.read(layout.initialFilters).tensors[firstLayer.name], tensor.shape == firstLayer.filters.shape {
            initial = tensor
        }
        var config: [String: String] = [:]
        if let text = try? String(contentsOf: layout.config, encoding: .utf8),
           let tree = try? ConfigNode.parse(yaml: text, file: layout.config.path) {
            config = tree.flattened()
        }
        let evaluations = FileManager.default.fileExists(atPath: layout.evaluations.path) ? try EvaluationRow.read(layout.evaluations) : []
        return TrialResult(id: id, summary: summary, metrics: metrics, firstLayer: firstLayer, initialFirstLayer: initial,
                           config: config, evaluations: evaluations)
    }

    /// The trials with every resolved setting (from each `config.yaml`) whose value differs
    /// between them added to their summaries' settings, which hold only the swept keys: trials
    /// with another learning rate or step count (a run resumed with other `--set` values in an
    /// older version) then never share a seed group or a table row's settings.
    static func withEverySettingThatVaries(_ trials: [TrialResult]) -> [TrialResult] {
        // A trial that failed before writing its config has none to compare.
        let configured = trials.filter { !$0.config.isEmpty }
        let keys = Set(configured.flatMap(\.config.keys))
        let varying = keys.filter { key in Set(configured.map { $0.config[key] ?? "" }).count > 1 }
        return trials.map { trial in
            guard !trial.config.isEmpty else { return trial }
            var trial = trial
            for key in varying where trial.summary.settings[key] == nil { trial.summary.settings[key] = trial.config[key] ?? "unset" }
            return trial
        }
    }

    /// `conv1.weight` when it is 4-D, else the alphabetically first 4-D `*.weight`.
    static func firstLayerFilters(in tensors: [String: Tensor]) -> (name: String, filters: Tensor)? {
        if let conv1 = tensors["conv1.weight"], conv1.rank == 4 { return ("conv1.weight", conv1) }
        let name = tensors.filter { $0.key.hasSuffix(".weight") && $0.value.rank == 4 }.keys.min()
        return name.map { ($0, tensors[$0]!) }
    }
}
