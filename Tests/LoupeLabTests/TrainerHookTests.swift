import Foundation
import LoupeCore
import LoupeData
import LoupeLab
import LoupeNN
import Testing

/// Snapshot checkpoints at chosen steps, as the insight issue's feature evolution needs, and a
/// log of every hook call.
private final class SnapshotHook: TrainerHook {
    let steps: Set<Int>
    let folder: URL
    var calls: [String] = []
    init(steps: Set<Int>, folder: URL) {
        self.steps = steps
        self.folder = folder
    }
    func afterStep(_ trainer: TrainerContext) throws {
        guard steps.contains(trainer.state.step) else { return }
        try trainer.state.write(to: folder.appendingPathComponent("step-\(trainer.state.step).safetensors"))
        calls.append("snapshot \(trainer.state.step)")
    }
    func afterEvaluation(_ trainer: TrainerContext, _ evaluation: EvaluationRow) throws { calls.append("evaluation \(evaluation.step)") }
    func afterCheckpoint(_ trainer: TrainerContext, at url: URL) throws { calls.append("checkpoint \(trainer.state.step)") }
    func trialEnded(_ trainer: TrainerContext, _ summary: TrialSummary) throws { calls.append("ended \(summary.status.rawValue)") }
}

/// Everything the sinks receive, in order.
private final class RecordingSink: MetricSink {
    var events: [String] = []
    func trialStarted(_ trial: Trial, at step: Int, history: TrialHistory) { events.append("started \(step)") }
    func trialLogged(_ trial: Trial, _ row: MetricRow) { events.append("row \(row.step)") }
    func trialEvaluated(_ trial: Trial, _ evaluation: EvaluationRow) { events.append("evaluation \(evaluation.step)") }
    func trialFinished(_ trial: Trial, _ summary: TrialSummary) { events.append("finished \(summary.status.rawValue)") }
}

@Suite struct TrainerHookTests {
    @Test func hooksAndSinksSeeEveryPointOfATrial() throws {
        guard let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = smallExperiment.replacingOccurrences(of: "  optimizer.name: [adam, rmsprop]", with: "  optimizer.name: [adam]")
            .replacingOccurrences(of: "checkpoint_every: 10", with: "checkpoint_every: 10, eval_every: 15")
        let trial = try Experiment.parse(text: text, path: "small.yaml").trials[0]
        let data = try TrialData.load(trial.config.data, catalog: DatasetCatalog(dataDirectory: root))
        let hook = SnapshotHook(steps: [7, 20], folder: folder), sink = RecordingSink()
        let policy = KernelPolicy(convolution: .im2col, products: .blas)
        let runner = TrialRunner(trial: trial, layout: ExperimentLayout(root: folder).trial(trial.id), data: data,
                                 sinks: [sink], hooks: [hook], kernels: policy)
        let summary = try runner.run(resume: false)
        #expect(summary.status == .completed && summary.kernels == policy.effective)
        #expect(hook.calls == ["snapshot 7", "checkpoint 10", "evaluation 15", "snapshot 20", "checkpoint 20", "ended completed"])
        // Steps count from 0: the evaluation after 15 steps comes before step 15's row.
        #expect(sink.events == ["started 0", "row 0", "row 5", "row 10", "evaluation 15", "row 15", "row 20", "row 25", "row 29",
                                "finished completed"])
        #expect(try EvaluationRow.read(runner.layout.evaluations).map(\.step) == [15])
        // A snapshot is a whole trial state: it restores into a fresh one at its step.
        let restored = try runner.makeState()
        try restored.restore(from: folder.appendingPathComponent("step-7.safetensors"))
        #expect(restored.step == 7)
    }
}
