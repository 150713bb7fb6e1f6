import ArgumentParser
import Foundation
import LoupeCore
import LoupeData
import LoupeLab
import LoupeNN

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate saved weights on a dataset's test split: loss, accuracy, per-class accuracy and the confusion matrix.",
        discussion: "Give a trial folder, or a results folder to evaluate every trial in it that has weights.")
    @Argument(help: "Trial folders (holding config.yaml and weights.safetensors) or results folders of loupe run.") var folders: [String]
    @Option(help: "A catalog dataset name (\(catalogNames)) or a folder of Train/Test class folders (default: each trial's own data).")
    var data: String?
    @Flag(help: "Print JSON: one object per trial.") var json = false
    @Option(help: "Worker threads (default: LOUPE_THREADS, else the cores; the result is identical whatever this is).") var threads: Int?

    struct Result: Encodable {
        var trial: String
        var folder: String
        var data: String
        var evaluation: EvaluationReport
    }

    func run() throws {
        do {
            if let threads { try setThreads(threads) }
            guard !folders.isEmpty else { throw LoupeError.invalidArgument(name: "eval", message: "give a trial folder or a results folder") }
            let trials = try folders.flatMap(trialFolders)
            var loaded: [String: TrialData] = [:]
            var results: [Result] = []
            for trial in trials {
                let (config, source) = try self.config(of: trial)
                let key = "\(config.data)"
                if loaded[key] == nil { loaded[key] = try TrialData.load(config.data) }
                let datasets = loaded[key]!
                let model = try config.model.make(sampleShape: datasets.train.sampleShape, classes: datasets.train.classCount,
                                                  streams: RandomStreams(seed: config.train.seed))
                try Checkpoint.loadWeights(into: model, from: trial.weights)
                let evaluation = try EvaluationReport(model, on: datasets.test)
                results.append(Result(trial: trial.root.lastPathComponent, folder: trial.root.path, data: source, evaluation: evaluation))
                if !json {
                    if trials.count > 1 || results.count > 1 { say("\(trial.root.lastPathComponent) (\(source))") }
                    say(evaluation.text + (trials.count > 1 ? "\n" : ""))
                }
            }
            if json { print(String(decoding: try TrialSummary.encoder.encode(results), as: UTF8.self)) }
        } catch { fail(error) }
    }

    /// A trial folder as it is; a results folder as each of its trials that has weights.
    func trialFolders(_ path: String) throws -> [TrialLayout] {
        let url = URL(fileURLWithPath: path)
        let experiment = ExperimentLayout(root: url)
        if FileManager.default.fileExists(atPath: experiment.trialsFolder.path) {
            let trials = try experiment.trialIDs().map(experiment.trial).filter { FileManager.default.fileExists(atPath: $0.weights.path) }
            guard !trials.isEmpty else { throw LoupeError.file(path: path, message: "holds no trial with weights (none finished)") }
            return trials
        }
        let trial = TrialLayout(root: url)
        guard FileManager.default.fileExists(atPath: trial.config.path) else {
            throw LoupeError.file(path: path, message: "is neither a trial folder (config.yaml, weights.safetensors) nor a results folder (trials/)")
        }
        guard FileManager.default.fileExists(atPath: trial.weights.path) else {
            throw LoupeError.file(path: trial.weights.path, message: "is missing: the trial has not finished")
        }
        return [trial]
    }

    /// The trial's settings, with `--data` in place of its data when given; and the data's name.
    func config(of trial: TrialLayout) throws -> (TrialConfig, String) {
        var tree = try trial.readConfigTree()
        if let data {
            let isCatalogName = DatasetCatalog().entries.contains { $0.name == data }
            if !isCatalogName && !FileManager.default.fileExists(atPath: data) {
                var message = "is neither a catalog name (\(catalogNames)) nor an existing folder"
                if let close = closestName(data, among: DatasetCatalog().entries.map(\.name)) { message += "; did you mean '\(close)'?" }
                throw LoupeError.invalidArgument(name: "--data \(data)", message: message)
            }
            tree = tree.setting("data", to: .mapping([], ConfigSource(file: "--data", line: nil)))
            tree = tree.setting(isCatalogName ? "data.dataset" : "data.path", to: .scalar(data, ConfigSource(file: "--data", line: nil)))
        }
        let config = try TrialConfig(tree)
        return (config, config.data.dataset ?? config.data.path ?? "data")
    }
}
