import Foundation
import LoupeCore
import LoupeData
import LoupeNN

/// Everything about an experiment that can be checked before a line is printed or a file is
/// written: the results folder (`--out` a folder, not a file; results already there only with
/// `--resume`, and then of the same experiment), each dataset name (with the closest catalog
/// name), each data setting read and its splits checked, and each trial's model built for its
/// data's shape with its probed layers found. The data read here is what the trials then use.
final class ExperimentPreparation: @unchecked Sendable {
    private let lock = NSLock()
    private var data: [String: TrialData]?

    func data(_ make: () throws -> [String: TrialData]) rethrows -> [String: TrialData] {
        try lock.withLock {
            if let data { return data }
            let made = try make()
            data = made
            return made
        }
    }
}

extension ExperimentRunner {
    /// Checks everything that can be checked without running a trial (see
    /// `ExperimentPreparation`); `run` does it too, so calling this first only moves the errors
    /// before whatever the caller prints.
    public func preflight() throws {
        _ = try preparedData()
    }

    /// The data of every data setting, by `"\(DataConfig)"`, read once after the checks.
    func preparedData() throws -> [String: TrialData] {
        try preparation.data {
            try checkOutputFolder()
            try checkDatasetNames()
            var loaded: [String: TrialData] = [:]
            for trial in experiment.trials {
                let key = "\(trial.config.data)"
                if loaded[key] == nil { loaded[key] = try TrialData.load(trial.config.data, catalog: catalog) }
            }
            try checkModels(loaded)
            return loaded
        }
    }

    private func checkOutputFolder() throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: layout.root.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw LoupeError.invalidArgument(name: "--out", message: "\(layout.root.path) is a file; give a folder for the results")
        }
        let existing = try layout.trialIDs()
        if !resume && !existing.isEmpty {
            throw LoupeError.file(path: layout.root.path, message: "already holds results of \(existing.count) trials; use --resume to continue them, or another --out")
        }
        if resume { try EffectiveExperiment(experiment, kernels: kernels.effective).checkResumable(in: layout) }
    }

    private func checkDatasetNames() throws {
        let names = catalog.entries.map(\.name)
        for trial in experiment.trials {
            guard let name = trial.config.data.dataset, !names.contains(name) else { continue }
            var message = "unknown dataset '\(name)'"
            if let suggestion = closestName(name, among: names) { message += "; did you mean '\(suggestion)'?" }
            message += " The catalog has \(names.joined(separator: ", ")); a folder of your own goes in data.path"
            if let source = trial.tree.value(at: "data.dataset")?.source { message += " (\(source))" }
            throw LoupeError.config(key: "data.dataset", message: message)
        }
    }

    /// `inspect.layers` must name conv or pool layers of the model (checked here so that a typo is
    /// an error before training, not when the trial ends).
    static func checkInspectedLayers(_ names: [String], in model: Sequential) throws {
        let featureLayers = model.layers.filter { $0.layer is Conv2D || $0.layer is MaxPool2D }.map(\.name)
        for name in names where !featureLayers.contains(name) {
            var message = "'\(name)' is not a conv or pool layer of the model; its conv and pool layers are \(featureLayers.joined(separator: ", "))"
            if let suggestion = closestName(name, among: featureLayers) { message += "; did you mean '\(suggestion)'?" }
            throw LoupeError.config(key: "inspect.layers", message: message)
        }
    }

    /// Builds each distinct model once for its data's shape and finds its probed layers.
    private func checkModels(_ loaded: [String: TrialData]) throws {
        var checked = Set<String>()
        for trial in experiment.trials {
            let config = trial.config, key = "\(config.data)"
            guard checked.insert("\(config.model)|\(key)|\(config.probes.activations)").inserted, let data = loaded[key] else { continue }
            do {
                let model = try config.model.make(sampleShape: data.train.sampleShape, classes: data.train.classCount,
                                                  streams: RandomStreams(seed: config.train.seed))
                for layer in config.probes.activations { _ = try model.probePoint(named: layer) }
                if let inspect = config.inspect { try Self.checkInspectedLayers(inspect.layers, in: model) }
            } catch let error as LoupeError where experiment.trials.count > 1 {
                let settings = trial.settings.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                throw LoupeError.config(key: "trial \(trial.id)\(settings.isEmpty ? "" : " (\(settings))")", message: "\(error)")
            }
        }
    }
}

extension Trial {
    /// The trial with `train.epochs` turned into steps for its training split's size, so the
    /// console's progress and ETA know the total.
    func resolvingEpochs(_ loaded: [String: TrialData]) -> Trial {
        guard config.train.epochs != nil, let data = loaded["\(config.data)"] else { return self }
        var config = self.config
        config.train.steps = config.train.resolvedSteps(trainingExamples: data.train.count)
        return Trial(index: index, settings: settings, tree: tree, config: config)
    }
}
