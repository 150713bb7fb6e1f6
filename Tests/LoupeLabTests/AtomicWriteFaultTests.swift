import Foundation
@_spi(FaultInjection) import LoupeCore
import LoupeData
import LoupeLab
import LoupeNN
import Testing

/// Counts the writes of one file name and crashes the `occurrence`-th at `stage`.
private final class CrashPlan: @unchecked Sendable {
    let name: String, occurrence: Int, stage: AtomicFile.Stage
    private let lock = NSLock()
    private var seen = 0

    init(_ name: String, occurrence: Int, at stage: AtomicFile.Stage) {
        (self.name, self.occurrence, self.stage) = (name, occurrence, stage)
    }

    var injection: AtomicFile.FaultInjection {
        AtomicFile.FaultInjection { [self] url in
            guard url.lastPathComponent == name else { return nil }
            return lock.withLock {
                seen += 1
                return seen == occurrence ? stage : nil
            }
        }
    }
}

/// A tiny trial on the 8x8 synthetic images: 12 steps, an evaluation and a checkpoint every 4.
private let faultExperiment = """
name: faults
data: {dataset: cifar10-gray28}
model: {layers: [{type: conv2d, name: conv1, filters: 4, kernel: 3, activation: relu}, {type: maxpool, size: 2}, {type: dense, name: fc, units: 3}]}
train: {steps: 12, batch_size: 6, log_every: 2, eval_every: 4, checkpoint_every: 4, seed: 5}
optimizer: {name: adam, lr: 1.0e-2}
"""

private func runner(in folder: URL) throws -> TrialRunner {
    let trial = try Experiment.parse(text: faultExperiment, path: "faults.yaml").trials[0]
    let data = try syntheticDataset(seed: 1)
    return TrialRunner(trial: trial, layout: ExperimentLayout(root: folder).trial(trial.id), data: TrialData(train: data, test: data))
}

private func leftovers(_ folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { AtomicFile.finalName(ofLeftover: $0) != nil }
}

@Suite struct AtomicWriteFaultTests {
    /// A crash part-way through the second checkpoint, the final weights or the final summary:
    /// the previous version of that file (or none) is under its name and every file in the trial
    /// folder still loads; `--resume` removes the temporary file and ends bit-identical to an
    /// uninterrupted run.
    @Test(arguments: [("checkpoint.safetensors", 2), ("weights.safetensors", 1), ("summary.json", 2)], AtomicFile.Stage.allCases)
    func aCrashInATrialsWriteLeavesLoadableFilesAndResumesExactly(file: (name: String, occurrence: Int), stage: AtomicFile.Stage) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let straight = try runner(in: folder.appendingPathComponent("straight"))
        #expect(try straight.run(resume: false).status == .completed)

        let crashed = try runner(in: folder.appendingPathComponent("crashed"))
        let layout = crashed.layout
        let plan = CrashPlan(file.name, occurrence: file.occurrence, at: stage)
        AtomicFile.faultInjection.withValue(plan.injection) {
            #expect(throws: AtomicFile.InjectedCrash(stage: stage, url: layout.root.appendingPathComponent(file.name))) {
                try crashed.run(resume: false)
            }
        }
        #expect(leftovers(layout.root).count == 1 && leftovers(layout.root)[0].hasPrefix(".\(file.name)."), "\(leftovers(layout.root))")
        // What is under each final name loads: the checkpoint of step 4 (the second, of step 8,
        // crashed) or of step 8; no weights yet; the summary of the trial's start.
        let state = try crashed.makeState()
        try state.restore(from: layout.checkpoint)
        #expect(state.step == (file.name == "checkpoint.safetensors" ? 4 : 8))
        #expect(FileManager.default.fileExists(atPath: layout.weights.path) == (file.name == "summary.json"))
        if file.name == "summary.json" {
            try Checkpoint.loadWeights(into: try crashed.makeState().model, from: layout.weights)
        }
        #expect(try TrialSummary.read(layout.summary).status == .running)
        #expect(try MetricRow.read(layout.metrics).map(\.step).isEmpty == false)

        let resumed = try crashed.run(resume: true)
        #expect(resumed.status == .completed)
        #expect(leftovers(layout.root).isEmpty, "\(leftovers(layout.root))")
        #expect(!FileManager.default.fileExists(atPath: layout.checkpoint.path))
        #expect(try Data(contentsOf: layout.weights) == Data(contentsOf: straight.layout.weights))
        // `seconds` (wall-clock) is left out: it differs between any two runs.
        let rows = { (url: URL) in try MetricRow.read(url).map { [Double($0.step), $0.loss, $0.accuracy, $0.learningRate] } }
        #expect(try rows(layout.metrics) == rows(straight.layout.metrics))
        #expect(try EvaluationRow.read(layout.evaluations) == EvaluationRow.read(straight.layout.evaluations))
    }

    /// A crash before the run index commits a trial's new record: the store still opens and
    /// holds the previous record and its metrics.
    @Test(arguments: AtomicFile.Stage.allCases)
    func aCrashInTheRunIndexKeepsThePreviousRecord(stage: AtomicFile.Stage) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("runs.sqlite")
        var summary = TrialSummary(id: "t1", status: .running, steps: 10, seconds: 1, parameters: 5, settings: ["train.seed": "0"])
        let rows = [MetricRow(step: 0, loss: 2, accuracy: 0.1, learningRate: 0.01, seconds: 0.5)]
        try RunStore(url: url).record(experiment: "e", summary: summary, metrics: rows)
        summary.status = .completed
        summary.steps = 20
        let store = try RunStore(url: url)
        AtomicFile.faultInjection.withValue(CrashPlan("runs.sqlite", occurrence: 1, at: stage).injection) {
            #expect(throws: AtomicFile.InjectedCrash.self) {
                try store.record(experiment: "e", summary: summary, metrics: rows + [MetricRow(step: 10, loss: 1, accuracy: 0.5, learningRate: 0.01, seconds: 1)])
            }
        }
        let reopened = try RunStore(url: url)
        #expect(try reopened.trials().map(\.summary.status) == [.running])
        #expect(try reopened.metrics(of: "t1") == rows)
        try reopened.record(experiment: "e", summary: summary, metrics: rows)
        #expect(try RunStore(url: url).trials().map(\.summary.steps) == [20])
    }
}
