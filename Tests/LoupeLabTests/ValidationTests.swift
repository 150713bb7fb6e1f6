import Foundation
import LoupeCore
import LoupeData
@testable import LoupeLab
import Testing

/// `data.validation`, `train.epochs`, early stopping and `keep_best`.
@Suite(.serialized) struct ValidationTests {
    /// The small CNN, one epoch of the 9,000 kept images in batches of 300 (30 steps), a
    /// validation evaluation every 5 steps.
    static func experiment(_ train: String) -> String {
        smallExperiment
            .replacingOccurrences(of: "data: {dataset: cifar10-gray28}", with: "data: {dataset: cifar10-gray28, validation: 0.1}")
            .replacingOccurrences(of: "train: {steps: 30, batch_size: 20, log_every: 5, checkpoint_every: 10, seed: 3}",
                                  with: "train: {epochs: 1, batch_size: 300, log_every: 5, eval_every: 5, checkpoint_every: 10, seed: 3\(train)}")
            .replacingOccurrences(of: "  optimizer.name: [adam, rmsprop]", with: "  optimizer.name: [adam]")
    }

    @Test func settingsThatCannotWorkAreRefused() throws {
        func message(_ text: String) -> String {
            do { _ = try Experiment.parse(text: text, path: "v.yaml"); return "" } catch { return "\(error)" }
        }
        let plain = Self.experiment("").replacingOccurrences(of: ", validation: 0.1", with: "")
        #expect(message(plain.replacingOccurrences(of: "seed: 3}", with: "seed: 3, keep_best: true}")).contains("set data.validation"))
        #expect(message(Self.experiment(", early_stopping: {patience: 2}").replacingOccurrences(of: "eval_every: 5, ", with: ""))
            .contains("train.early_stopping: needs train.eval_every"))
        #expect(message(Self.experiment(", steps: 40")).contains("train.epochs: cannot be given together with train.steps"))
        #expect(message(Self.experiment("").replacingOccurrences(of: "validation: 0.1", with: "validation: 1")).contains("data.validation"))
        #expect(message(Self.experiment(", early_stopping: {metric: val_accurcy}")).contains("did you mean 'val_accuracy'"))
    }

    @Test func theHeldOutSplitIsSeededAndDisjoint() throws {
        guard let root = testDataRoot() else { return }
        let catalog = DatasetCatalog(dataDirectory: root)
        let config = try Experiment.parse(text: Self.experiment(""), path: "v.yaml").trials[0].config.data
        let (a, b) = (try TrialData.load(config, catalog: catalog), try TrialData.load(config, catalog: catalog))
        let whole = try DatasetSource.catalog("cifar10-gray28").load(.train, catalog: catalog)
        let validation = try #require(a.validation)
        #expect(a.train.count == 9000 && validation.count == 1000 && a.test.count == 1000)
        #expect(a.train.pixels == b.train.pixels && validation.pixels == b.validation?.pixels, "the same split every time")
        #expect(zip(a.train.classCounts, validation.classCounts).map { $0 + $1 } == whole.classCounts)
        // Every image of the whole is in exactly one part (compared as byte strings).
        let size = whole.imageShape.scalarCount
        func images(_ d: Dataset) -> [ArraySlice<UInt8>] { (0..<d.count).map { d.pixels[($0 * size)..<(($0 + 1) * size)] } }
        var remaining = Dictionary(images(whole).map { ($0, 1) }, uniquingKeysWith: +)
        for image in images(a.train) + images(validation) { remaining[image, default: 0] -= 1 }
        #expect(remaining.values.allSatisfy { $0 == 0 })
        let other = try TrialData.holdOut(0.1, of: whole, seed: 1)
        #expect(other.validation.pixels != validation.pixels, "another validation_seed draws another split")
    }

    @Test func keepBestEndsOnTheBestValidationWeightsAndEarlyStoppingStops() throws {
        guard let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = Self.experiment(", keep_best: true, early_stopping: {metric: val_accuracy, patience: 2, min_delta: 0.5}")
        let experiment = try Experiment.parse(text: text, path: "v.yaml")
        let runner = try ExperimentRunner(experiment: experiment, output: folder, console: Console(quiet: true, interactive: false, write: { _ in }),
                                          catalog: DatasetCatalog(dataDirectory: root))
        let summary = try runner.run()[0]
        // min_delta 0.5 cannot be beaten after the first evaluation: two more and it stops.
        #expect(summary.status == .completed && summary.stoppedEarlyAt == 15 && summary.steps == 15 && summary.bestStep == 5, "\(summary)")
        let rows = try EvaluationRow.read(ExperimentLayout(root: folder).trial(summary.id).evaluations)
        #expect(rows.map(\.step) == [5, 10, 15] && rows.allSatisfy { $0.validationLoss != nil })
        // The final weights are those of step 5: their validation accuracy is that evaluation's, exactly.
        #expect(summary.validationAccuracy == rows[0].validationAccuracy, "\(String(describing: summary.validationAccuracy)) vs \(rows)")
        #expect(summary.validationLoss == rows[0].validationLoss)
    }

    @Test func epochsSetTheStepsAndAResumedTrialEndsBitIdentical() throws {
        guard let root = testDataRoot() else { return }
        let straight = try temporaryFolder(), interrupted = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: straight); try? FileManager.default.removeItem(at: interrupted) }
        let text = Self.experiment(", keep_best: true, early_stopping: {metric: val_loss, patience: 3}")
        let experiment = try Experiment.parse(text: text, path: "v.yaml")
        let catalog = DatasetCatalog(dataDirectory: root)
        let console = Console(quiet: true, interactive: false, write: { _ in })
        let reference = try ExperimentRunner(experiment: experiment, output: straight, console: console, catalog: catalog).run()[0]
        #expect(reference.status == .completed && (reference.steps == 30 || reference.stoppedEarlyAt != nil), "one epoch of 9,000 in 300s: \(reference)")

        // Stopped at step 23 as a kill leaves it (checkpoint of step 20), then resumed.
        let trial = experiment.trials[0].resolvingEpochs(["\(experiment.trials[0].config.data)": try TrialData.load(experiment.trials[0].config.data, catalog: catalog)])
        #expect(trial.config.train.steps == 30)
        let layout = ExperimentLayout(root: interrupted)
        let data = try TrialData.load(trial.config.data, catalog: catalog)
        try FileManager.default.createDirectory(at: layout.trialsFolder, withIntermediateDirectories: true)
        let runner = TrialRunner(trial: trial, layout: layout.trial(trial.id), data: data)
        _ = try runner.run(resume: false, stoppingAt: 23)
        // The checkpoint of step 20 holds what the watch has seen: the best so far and its weights.
        let saved = try runner.makeState()
        try saved.restore(from: layout.trial(trial.id).checkpoint)
        #expect(saved.step == 20 && saved.validation.best != nil && [5, 10, 15, 20].contains(saved.validation.bestStep ?? -1))
        #expect(saved.validation.bestWeights?.count == saved.model.parameters.count)
        let resumed = try ExperimentRunner(experiment: experiment, output: interrupted, resume: true, console: console, catalog: catalog).run()[0]
        let a = ExperimentLayout(root: straight).trial(reference.id), b = layout.trial(reference.id)
        #expect(try Data(contentsOf: a.weights) == Data(contentsOf: b.weights), "weights differ after resuming")
        #expect(try EvaluationRow.read(a.evaluations) == EvaluationRow.read(b.evaluations))
        #expect(resumed.validationLoss == reference.validationLoss && resumed.bestStep == reference.bestStep && resumed.testAccuracy == reference.testAccuracy)
    }
}
