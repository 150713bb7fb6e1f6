import Foundation
import LoupeCore
import LoupeData
import LoupeLab
import LoupeNN
import Testing

/// The shared test data folder, or nil (with a printed reason) when LOUPE_TEST_DATA is unset.
func testDataRoot() -> String? {
    guard let root = ProcessInfo.processInfo.environment["LOUPE_TEST_DATA"], !root.isEmpty else {
        print("skipped: LOUPE_TEST_DATA is not set (scripts/test sets it to ../shared/data)")
        return nil
    }
    guard FileManager.default.fileExists(atPath: root + "/cifar10-gray28") else {
        print("skipped: \(root)/cifar10-gray28 does not exist")
        return nil
    }
    return URL(fileURLWithPath: root).standardizedFileURL.path
}

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-lab-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A small experiment on the real data: a reduced CNN so each step is quick.
let smallExperiment = """
name: small
data: {dataset: cifar10-gray28}
model:
  layers:
    - {type: conv2d, name: conv1, filters: 8, kernel: 5, activation: relu, weight_init: {name: truncated_normal, std: 0.1}, bias_init: 0.1}
    - {type: maxpool, size: 2}
    - {type: conv2d, name: conv2, filters: 8, kernel: 5, activation: relu, weight_init: {name: truncated_normal, std: 0.1}, bias_init: 0.1}
    - {type: maxpool, size: 2}
    - {type: dense, name: fc1, units: 64, activation: relu}
    - {type: dropout, keep_probability: 0.5}
    - {type: dense, name: fc2, units: 10}
train: {steps: 30, batch_size: 20, log_every: 5, checkpoint_every: 10, seed: 3}
optimizer: {name: adam, lr: 1.0e-3}
probes: {activations: [conv1, conv2], confusion: true}
sweep:
  optimizer.name: [adam, rmsprop]
"""

let smallRecurrentExperiment = """
name: small-recurrent
data: {dataset: mnist-png28, sequence: rows}
models:
  lstm: {layers: [{type: lstm, units: 48}, {type: dense, units: 10}]}
  rnn: {layers: [{type: rnn, units: 40}, {type: dense, units: 10}]}
  gru: {layers: [{type: gru, units: 32, variant: pytorch, return_sequences: true}, {type: gru, units: 48}, {type: dense, units: 10}]}
model: lstm
train: {steps: 30, batch_size: 32, log_every: 5, checkpoint_every: 10, seed: 3}
optimizer: {name: adam, lr: 1.0e-3}
probes: {confusion: true}
sweep:
  model: [lstm, rnn, gru]
"""

private func run(_ text: String, into folder: URL, jobs: Int = 1, resume: Bool = false, root: String) throws -> [TrialSummary] {
    let experiment = try Experiment.parse(text: text, path: "small.yaml")
    let runner = try ExperimentRunner(experiment: experiment, output: folder, jobs: jobs, resume: resume,
                                      console: Console(quiet: true, interactive: false, write: { _ in }),
                                      catalog: DatasetCatalog(dataDirectory: root))
    return try runner.run()
}

@Suite(.serialized) struct ExperimentRunnerTests {
    @Test func aTwoTrialSweepWritesEveryResult() throws {
        guard let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let summaries = try run(smallExperiment, into: folder, root: root)
        #expect(summaries.count == 2 && summaries.allSatisfy { $0.status == .completed && $0.steps == 30 })
        let layout = ExperimentLayout(root: folder)
        for s in summaries {
            let trial = layout.trial(s.id)
            #expect(FileManager.default.fileExists(atPath: trial.weights.path))
            #expect(FileManager.default.fileExists(atPath: trial.config.path))
            #expect(!FileManager.default.fileExists(atPath: trial.checkpoint.path), "a finished trial keeps no checkpoint")
            let rows = try MetricRow.read(trial.metrics)
            #expect(rows.map(\.step) == [0, 5, 10, 15, 20, 25, 29])
            #expect((s.testAccuracy ?? 0) > 0.1)
            #expect(s.activations["conv1"] != nil && s.activations["conv2"] != nil)
            #expect(s.confusion?.flatMap { $0 }.reduce(0, +) == 1000)
            #expect(try TrialSummary.read(trial.summary) == s)
        }
        let store = try RunStore(url: layout.store)
        #expect(try store.trials().count == 2)
        #expect(try store.trials(matching: ["optimizer.name": "rmsprop"]).count == 1)
        #expect(try store.metrics(of: summaries[0].id).count == 7)
        // Results are never overwritten without --resume.
        #expect(throws: LoupeError.self) { try run(smallExperiment, into: folder, root: root) }
    }

    @Test func resultsAreBitIdenticalWhateverTheJobCount() throws {
        guard let root = testDataRoot() else { return }
        let one = try temporaryFolder(), two = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: one); try? FileManager.default.removeItem(at: two) }
        let a = try run(smallExperiment, into: one, jobs: 1, root: root)
        let b = try run(smallExperiment, into: two, jobs: 2, root: root)
        #expect(a.map(\.id) == b.map(\.id))
        for s in a {
            let x = ExperimentLayout(root: one).trial(s.id), y = ExperimentLayout(root: two).trial(s.id)
            #expect(try Data(contentsOf: x.weights) == Data(contentsOf: y.weights))
            #expect(try MetricRow.read(x.metrics).map { [$0.loss, $0.accuracy] } == MetricRow.read(y.metrics).map { [$0.loss, $0.accuracy] })
        }
        #expect(a.map(\.testAccuracy) == b.map(\.testAccuracy))
    }

    /// Every op splits its work by shape, never by thread count: the same trial at 1, 2, 3, 8 and
    /// 16 threads (on this 2-core machine) gives the same weights, metrics, test accuracy,
    /// activation statistics and confusion matrix, and records the count it ran with.
    @Test(arguments: ["convolutional", "recurrent"])
    func resultsAreBitIdenticalWhateverTheThreadCount(models: String) throws {
        guard let root = testDataRoot() else { return }
        let before = computeThreads
        defer { try? setComputeThreads(before) }
        var reference: (summaries: [TrialSummary], folder: URL)?
        var folders: [URL] = []
        defer { for folder in folders { try? FileManager.default.removeItem(at: folder) } }
        // 16 and 32 filters: the direct and fused convolution kernels run (on AVX-512), as LeNet's do;
        // fc1's 512 units at the evaluation's batch of 250 have its bias add cut mid-row into pieces
        // (ThreadCountTests checks that op's values at many counts).
        // The recurrent layers: 48 units accumulate their weight gradients step by step, 40 take
        // them after the sweep; a GRU returning its sequence into another.
        let text = models == "recurrent" ? smallRecurrentExperiment
            : smallExperiment.replacingOccurrences(of: "name: conv1, filters: 8", with: "name: conv1, filters: 16")
            .replacingOccurrences(of: "name: conv2, filters: 8", with: "name: conv2, filters: 32")
            .replacingOccurrences(of: "name: fc1, units: 64", with: "name: fc1, units: 512")
        for threads in [1, 2, 3, 8, 16] {
            try setComputeThreads(threads)
            let folder = try temporaryFolder()
            folders.append(folder)
            let summaries = try run(text, into: folder, root: root)
            #expect(summaries.allSatisfy { $0.threads == threads })
            guard let (expected, first) = reference else {
                reference = (summaries, folder)
                continue
            }
            for (a, b) in zip(expected, summaries) {
                #expect(a.testAccuracy == b.testAccuracy && a.activations == b.activations && a.confusion == b.confusion,
                        "\(b.id) at \(threads) threads: \(b.testAccuracy ?? -1) vs \(a.testAccuracy ?? -1)")
                let x = ExperimentLayout(root: first).trial(a.id), y = ExperimentLayout(root: folder).trial(b.id)
                #expect(try Data(contentsOf: x.weights) == Data(contentsOf: y.weights), "\(b.id) weights differ at \(threads) threads")
                #expect(try MetricRow.read(x.metrics).map { [$0.loss, $0.accuracy] } == MetricRow.read(y.metrics).map { [$0.loss, $0.accuracy] })
            }
        }
    }

    @Test func resumingFromACheckpointEndsBitIdentical() throws {
        guard let root = testDataRoot() else { return }
        let straight = try temporaryFolder(), interrupted = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: straight); try? FileManager.default.removeItem(at: interrupted) }
        let single = smallExperiment.replacingOccurrences(of: "  optimizer.name: [adam, rmsprop]", with: "  optimizer.name: [adam]")
        let reference = try run(single, into: straight, root: root)[0]
        // An interruption at step 23, as a kill leaves it: the checkpoint of step 20 and metrics
        // rows up to 20 on disk, nothing saved since.
        let experiment = try Experiment.parse(text: single, path: "small.yaml")
        let trial = experiment.trials[0]
        let layout = ExperimentLayout(root: interrupted)
        let data = try TrialData.load(trial.config.data, catalog: DatasetCatalog(dataDirectory: root))
        try FileManager.default.createDirectory(at: layout.trialsFolder, withIntermediateDirectories: true)
        let stopped = try TrialRunner(trial: trial, layout: layout.trial(trial.id), data: data).run(resume: false, stoppingAt: 23)
        #expect(stopped.status == .running && stopped.steps == 23)
        #expect(FileManager.default.fileExists(atPath: layout.trial(trial.id).checkpoint.path))
        // A kill during a final write leaves a temporary file; the resumed run removes it.
        let leftover = layout.trial(trial.id).root.appendingPathComponent(".summary.json.4242.17.tmp")
        try Data("{".utf8).write(to: leftover)
        // So does one of the experiment's own files, in the results folder.
        let rootLeftover = interrupted.appendingPathComponent(".experiment.yaml.4242.18.tmp")
        try Data("na".utf8).write(to: rootLeftover)
        let resumed = try run(single, into: interrupted, resume: true, root: root)[0]
        #expect(!FileManager.default.fileExists(atPath: leftover.path))
        #expect(!FileManager.default.fileExists(atPath: rootLeftover.path))
        #expect(resumed.id == reference.id && resumed.status == .completed)
        let a = ExperimentLayout(root: straight).trial(reference.id), b = layout.trial(reference.id)
        #expect(try Data(contentsOf: a.weights) == Data(contentsOf: b.weights))
        #expect(try MetricRow.read(a.metrics).map { [$0.loss, $0.accuracy] } == MetricRow.read(b.metrics).map { [$0.loss, $0.accuracy] })
        #expect(resumed.testAccuracy == reference.testAccuracy)
    }

    @Test func aHugeLearningRateIsReportedAsDivergedAndTheSweepGoesOn() throws {
        guard let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = smallExperiment.replacingOccurrences(of: "  optimizer.name: [adam, rmsprop]", with: "  optimizer.lr: [1.0e-3, 1.0e+9]")
            .replacingOccurrences(of: "name: adam, lr: 1.0e-3", with: "name: sgd, lr: 1.0e-3")
        let summaries = try run(text, into: folder, root: root)
        let diverged = summaries.filter { $0.status == .diverged }
        try #require(diverged.count == 1, "\(summaries)")
        #expect(diverged[0].settings["optimizer.lr"] == "1.0e+9")
        #expect(diverged[0].divergedAtStep != nil)
        #expect(summaries.filter { $0.status == .completed }.count == 1)
    }

    @Test func aMissingDatasetRunsNothing() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out")
        let empty = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: empty) }
        do {
            _ = try run(smallExperiment.replacingOccurrences(of: "cifar10-gray28", with: "cifar10-gray28"), into: output, root: empty.path)
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("cifar10-gray28"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
        do {
            _ = try run(smallExperiment.replacingOccurrences(of: "cifar10-gray28", with: "cifar11"), into: output, root: empty.path)
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("unknown dataset 'cifar11'"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    /// A Test folder that lacks one of Train's class folders stops the run before anything is
    /// written; `data.classes` then decides the labels, and the trial runs.
    @Test func splitsThatDisagreeStopTheRunBeforeItStarts() throws {
        let data = try temporaryFolder(), output = try temporaryFolder().appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: output.deletingLastPathComponent()) }
        try writePNGFolder(data, split: "Train", classes: ["cat", "dog"])
        try writePNGFolder(data, split: "Test", classes: ["dog"])
        let text = """
        name: pets
        data: {path: \(data.path)}
        model: {layers: [{type: flatten}, {type: dense, name: fc, units: 2}]}
        train: {steps: 3, batch_size: 2, log_every: 1}
        optimizer: {name: sgd, lr: 0.1}
        """
        do {
            _ = try run(text, into: output, root: data.path)
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains(data.appendingPathComponent("Test").path) && "\(error)".contains("lacks cat"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
        let listed = text.replacingOccurrences(of: "{path: \(data.path)}", with: "{path: \(data.path), classes: [cat, dog]}")
        let summaries = try run(listed, into: output, root: data.path)
        #expect(summaries.count == 1 && summaries[0].status == .completed, "\(summaries)")
    }
}
