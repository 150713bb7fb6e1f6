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
}

/// An experiment folder read whole: the experiment file's text and every trial.
struct ExperimentResults: Sendable {
    var directory: URL
    /// `experiment.yaml` as given, nil when the folder has none.
    var experimentText: String?
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
        let trials = try ids.map { try readTrial($0, layout.trial($0)) }
        return ExperimentResults(directory: directory, experimentText: experimentText, trials: trials)
    }

    static func readTrial(_ id: String, _ layout: TrialLayout) throws -> TrialResult {
        guard FileManager.default.fileExists(atPath: layout.summary.path) else {
            throw LoupeError.file(path: layout.summary.path, message: "is missing: every trial folder needs a summary")
        }
        let summary = try TrialSummary.read(layout.summary)
        let metrics = FileManager.default.fileExists(atPath: layout.metrics.path) ? try MetricRow.read(layout.metrics) : []
        var firstLayer: (String, Tensor)?
        if FileManager.default.fileExists(atPath: layout.weights.path) {
            firstLayer = firstLayerFilters(in: try Safetensors.read(layout.weights).tensors)
        }
        return TrialResult(id: id, summary: summary, metrics: metrics, firstLayer: firstLayer)
    }

    /// `conv1.weight` when it is 4-D, else the alphabetically first 4-D `*.weight`.
    static func firstLayerFilters(in tensors: [String: Tensor]) -> (name: String, filters: Tensor)? {
        if let conv1 = tensors["conv1.weight"], conv1.rank == 4 { return ("conv1.weight", conv1) }
        let name = tensors.filter { $0.key.hasSuffix(".weight") && $0.value.rank == 4 }.keys.min()
        return name.map { ($0, tensors[$0]!) }
    }
}
