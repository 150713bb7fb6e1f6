import Foundation
import LoupeCore
import LoupeLab
import Testing

/// The repository's root (this file is Tests/LoupeLabTests/…).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private let valid = """
name: small
data:
  dataset: cifar10-gray28
model:
  builder: lenet
train:
  steps: 20
  batch_size: 10
optimizer:
  name: adam
  lr: 1.0e-3
"""

/// The error message `text` (with `overrides`) gives, or "no error".
private func error(_ text: String, overrides: [String] = []) -> String {
    do {
        _ = try Experiment.parse(text: text, path: "exp.yaml", overrides: overrides)
        return "no error"
    } catch { return "\(error)" }
}

@Suite struct ExperimentFileTests {
    @Test func theOptimizerStudyExpandsToTwentyOneTrials() throws {
        let experiment = try Experiment.load(path: repositoryRoot.appendingPathComponent("experiments/cnn-optimizers.yaml").path)
        #expect(experiment.name == "cnn-optimizers")
        #expect(experiment.trials.count == 21)
        #expect(Set(experiment.trials.map(\.id)).count == 21)
        let momentum = experiment.trials.filter { $0.config.optimizer.name == "momentum" }
        #expect(momentum.count == 3 && momentum.allSatisfy { $0.config.optimizer.momentum == 0.5 && $0.config.optimizer.learningRate == 1e-2 })
        #expect(experiment.trials.map(\.config.train.seed).sorted() == (0..<21).map { UInt64($0 % 3) }.sorted())
        #expect(experiment.trials[0].settings.map(\.key) == ["optimizer.name", "optimizer.lr", "train.seed"])
        let long = try Experiment.load(path: repositoryRoot.appendingPathComponent("experiments/cnn-long.yaml").path)
        #expect(long.trials.count == 1 && long.trials[0].config.train.steps == 5000)
    }

    @Test func idsAreStableAndFollowTheSettings() throws {
        let a = try Experiment.parse(text: valid, path: "a.yaml"), b = try Experiment.parse(text: valid, path: "b.yaml")
        #expect(a.trials[0].id == b.trials[0].id)
        let c = try Experiment.parse(text: valid, path: "a.yaml", overrides: ["train.steps=21"])
        #expect(c.trials[0].id != a.trials[0].id)
    }

    @Test func unknownKeysNameTheKeyTheLineAndTheLikelyTypo() {
        let top = error(valid.replacingOccurrences(of: "optimizer:", with: "optimzer:"))
        #expect(top.contains("optimzer") && top.contains("exp.yaml:9") && top.contains("did you mean 'optimizer'"), "\(top)")
        let nested = error(valid.replacingOccurrences(of: "  steps: 20", with: "  stpes: 20"))
        #expect(nested.contains("train.stpes") && nested.contains("exp.yaml:7") && nested.contains("did you mean 'train.steps'"), "\(nested)")
        let value = error(valid.replacingOccurrences(of: "name: adam", with: "name: adamm"))
        #expect(value.contains("optimizer.name") && value.contains("did you mean 'adam'"), "\(value)")
    }

    @Test func wrongTypesAndImpossibleValues() {
        let type = error(valid.replacingOccurrences(of: "steps: 20", with: "steps: many"))
        #expect(type.contains("train.steps") && type.contains("integer") && type.contains("exp.yaml:7"), "\(type)")
        let negative = error(valid.replacingOccurrences(of: "lr: 1.0e-3", with: "lr: -0.1"))
        #expect(negative.contains("optimizer.lr") && negative.contains("at least 0"), "\(negative)")
        let zero = error(valid.replacingOccurrences(of: "batch_size: 10", with: "batch_size: 0"))
        #expect(zero.contains("train.batch_size") && zero.contains("at least 1"), "\(zero)")
        let list = error(valid.replacingOccurrences(of: "steps: 20", with: "steps: [1, 2]"))
        #expect(list.contains("train.steps") && list.contains("single value"), "\(list)")
        #expect(error(valid.replacingOccurrences(of: "  builder: lenet", with: "  builder: resnet")).contains("model.builder"))
        #expect(error("data: {dataset: x}\nmodel: {builder: lenet}\n").contains("optimizer"))
        #expect(error("name: [").contains("not valid YAML"))
    }

    @Test func commandLineOverrides() throws {
        let experiment = try Experiment.parse(text: valid, path: "exp.yaml", overrides: ["train.steps=7", "optimizer.name=sgd", "sweep.seeds=[1, 2]"])
        #expect(experiment.trials.count == 2)
        #expect(experiment.trials.allSatisfy { $0.config.train.steps == 7 && $0.config.optimizer.name == "sgd" })
        let bad = error(valid, overrides: ["train.stepz=7"])
        #expect(bad.contains("train.stepz") && bad.contains("--set train.stepz") && bad.contains("did you mean 'train.steps'"), "\(bad)")
        #expect(error(valid, overrides: ["train.steps"]).contains("KEY=VALUE"))
        // Sweep axes are dotted keys themselves.
        let swept = try Experiment.parse(text: valid, path: "exp.yaml", overrides: ["sweep.optimizer.lr=[0.1, 0.2]"])
        #expect(swept.trials.map(\.config.optimizer.learningRate) == [0.1, 0.2])
        #expect(error(valid, overrides: ["train.steps=-5"]).contains("at least 1"))
    }

    @Test func sweepAxesAreValidatedLikeTheirKeys() {
        let typo = error(valid + "\nsweep:\n  optimizer.lrr: [0.1, 0.2]\n")
        #expect(typo.contains("optimizer.lrr") && typo.contains("did you mean 'optimizer.lr'") && typo.contains("exp.yaml:13"), "\(typo)")
        #expect(error(valid + "\nsweep:\n  optimizer.lr: 0.1\n").contains("non-empty list"))
        #expect(error(valid + "\nsweep:\n  optimizer.lr: [0.1, 0.1]\n").contains("same settings"))
    }

    @Test func layerListsBuildAndCheckTheirShapes() throws {
        let text = """
        data: {dataset: cifar10-gray28}
        model:
          layers:
            - {type: conv2d, name: conv1, filters: 8, kernel: 3, activation: relu}
            - {type: maxpool, size: 2}
            - {type: dense, name: fc1, units: 10}
        optimizer: {name: sgd, lr: 0.1}
        """
        let trial = try Experiment.parse(text: text, path: "exp.yaml").trials[0]
        let model = try trial.config.model.make(sampleShape: [28, 28, 1], classes: 10, streams: RandomStreams(seed: 0))
        #expect(model.namedParameters().map(\.name) == ["conv1.weight", "conv1.bias", "fc1.weight", "fc1.bias"])
        #expect(try model.probePoint(named: "conv1") == "conv1_relu")
        #expect(throws: LoupeError.self) { try model.probePoint(named: "conv9") }
        #expect(throws: LoupeError.self) {
            try trial.config.model.make(sampleShape: [28, 28, 1], classes: 7, streams: RandomStreams(seed: 0))
        }
        #expect(error(text.replacingOccurrences(of: "units: 10", with: "unitz: 10")).contains("did you mean 'model.layers.2.units'"))
    }

    /// `data.classes` lists the class folders in label order; the list must be names, each once.
    @Test func dataClassesListsTheClasses() throws {
        let listed = valid.replacingOccurrences(of: "  dataset: cifar10-gray28", with: "  path: pets\n  classes: [dog, cat]")
        let trial = try Experiment.parse(text: listed, path: "exp.yaml").trials[0]
        #expect(trial.config.data.classes == ["dog", "cat"])
        #expect(try Experiment.parse(text: valid, path: "exp.yaml").trials[0].config.data.classes == nil)
        let twice = error(listed.replacingOccurrences(of: "[dog, cat]", with: "[dog, cat, dog]"))
        #expect(twice.contains("data.classes") && twice.contains("'dog'") && twice.contains("exp.yaml:4"), "\(twice)")
        #expect(error(listed.replacingOccurrences(of: "[dog, cat]", with: "[]")).contains("data.classes"))
        #expect(error(listed.replacingOccurrences(of: "[dog, cat]", with: "dog")).contains("data.classes"))
        #expect(error(listed.replacingOccurrences(of: "[dog, cat]", with: "[dog, [cat]]")).contains("data.classes"))
    }
}
