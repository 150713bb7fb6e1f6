import Foundation
import LoupeCore
import LoupeData
import Testing
@testable import LoupeLab

/// One trial of the small experiment with TensorBoard's sink and hook, as `ExperimentRunner` makes them.
struct TensorBoardTrial {
    let trial: Trial
    let layout: TrialLayout
    let data: TrialData

    init(_ text: String, folder: URL, root: String) throws {
        let experiment = try Experiment.parse(text: text, path: "small.yaml")
        trial = experiment.trials[0]
        layout = ExperimentLayout(root: folder).trial(trial.id)
        data = try TrialData.load(trial.config.data, catalog: DatasetCatalog(dataDirectory: root))
        hparams = HParamsExperiment(experiment)
    }

    let hparams: HParamsExperiment

    func runner(withTensorBoard: Bool = true, hooks more: [any TrainerHook] = []) -> TrialRunner {
        guard withTensorBoard else { return TrialRunner(trial: trial, layout: layout, data: data) }
        let log = TensorBoardLog(layout: layout, hparams: hparams, warn: { Issue.record("\($0)") })
        return TrialRunner(trial: trial, layout: layout, data: data, sinks: [TensorBoardSink(log: log)],
                           hooks: [TensorBoardHook(log: log, config: trial.config.tensorboard, test: data.test)] + more)
    }

    /// Every event of the trial's folder, file by file.
    func events() throws -> [[EventSummary]] {
        try TensorBoardLog.eventFiles(in: layout.root).map { url in
            try EventFileReader(url: url).records.map { try EventSummary(record: $0, path: url.path) }
        }
    }
}

/// The small experiment (30 steps) with evaluations every 10 steps and histograms every 10.
let tensorBoardExperiment = smallExperiment
    .replacingOccurrences(of: "  optimizer.name: [adam, rmsprop]", with: "  optimizer.name: [adam]")
    .replacingOccurrences(of: "checkpoint_every: 10", with: "checkpoint_every: 10, eval_every: 10")
    .replacingOccurrences(of: "probes:", with: "tensorboard: {histogram_every: 10, activations: [conv1]}\nprobes:")

/// The `num` of every histogram in an event record, by tag (`Summary.Value.histo`, field 5;
/// `HistogramProto.num`, field 3).
private func histogramCounts(_ record: [UInt8]) throws -> [(tag: String, count: Double)] {
    var found: [(String, Double)] = []
    var event = ProtoReader(record)
    while let (field, value) = try event.next() {
        guard field == 5, case let .bytes(summary) = value else { continue }
        var values = ProtoReader(summary)
        while let (_, value) = try values.next() {
            guard case let .bytes(body) = value else { continue }
            var fields = ProtoReader(body), tag = ""
            while let (f, v) = try fields.next() {
                if f == 1, case let .bytes(text) = v { tag = String(decoding: text, as: UTF8.self) }
                if f == 5, case let .bytes(histogram) = v {
                    var h = ProtoReader(histogram)
                    while let (hf, hv) = try h.next() { if hf == 3, case let .fixed64(bits) = hv { found.append((tag, Double(bitPattern: bits))) } }
                }
            }
        }
    }
    return found
}

/// Reads the trial's event file from disk after each evaluation and checkpoint, as TensorBoard would.
private final class DiskReader: TrainerHook {
    var seen: [String] = []
    func look(_ trainer: TrainerContext, for tag: String, at step: Int) throws {
        let events = try TensorBoardLog.eventFiles(in: trainer.layout.root).flatMap { url in
            try EventFileReader(url: url).records.map { try EventSummary(record: $0, path: url.path) }
        }
        if events.contains(where: { $0.step == step && ($0.tags.contains(tag) || (tag == "mark" && $0.checkpointStep == step)) }) {
            seen.append("\(tag)@\(step)")
        }
    }
    func afterEvaluation(_ trainer: TrainerContext, _ evaluation: EvaluationRow) throws {
        try look(trainer, for: "test_accuracy", at: evaluation.step)
    }
    func afterCheckpoint(_ trainer: TrainerContext, at url: URL) throws { try look(trainer, for: "mark", at: trainer.state.step) }
}

@Suite(.serialized) struct TensorBoardTrialTests {
    @Test func eachEvaluationAndCheckpointIsOnDiskWhenItsHookRuns() throws {
        guard let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trial = try TensorBoardTrial(tensorBoardExperiment, folder: folder, root: root), reader = DiskReader()
        _ = try trial.runner(hooks: [reader]).run(resume: false)
        #expect(reader.seen == ["test_accuracy@10", "mark@10", "test_accuracy@20", "mark@20"])
    }

    @Test func validationLossAndAccuracyAreScalarsAtEachEvaluation() throws {
        guard let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = tensorBoardExperiment.replacingOccurrences(of: "data: {dataset: cifar10-gray28}", with: "data: {dataset: cifar10-gray28, validation: 0.1}")
        let trial = try TensorBoardTrial(text, folder: folder, root: root)
        _ = try trial.runner().run(resume: false)
        let scalars = try trial.events().joined().flatMap { event in event.scalars.map { (event.step, $0.tag, $0.value) } }
        let evaluations = try EvaluationRow.read(trial.layout.evaluations)
        #expect(evaluations.map(\.step) == [10, 20])
        for evaluation in evaluations {
            let loss = scalars.first { $0.0 == evaluation.step && $0.1 == "validation_loss" }?.2
            let accuracy = scalars.first { $0.0 == evaluation.step && $0.1 == "validation_accuracy" }?.2
            #expect(loss == evaluation.validationLoss.map(Float.init), "validation_loss at step \(evaluation.step)")
            #expect(accuracy == evaluation.validationAccuracy.map(Float.init), "validation_accuracy at step \(evaluation.step)")
        }
    }

    @Test func badTensorBoardSettingsNameTheirKey() throws {
        func error(_ replacement: String) -> String {
            let text = tensorBoardExperiment.replacingOccurrences(of: "tensorboard: {histogram_every: 10, activations: [conv1]}", with: replacement)
            do { _ = try Experiment.parse(text: text, path: "small.yaml") } catch { return "\(error)" }
            return "no error"
        }
        #expect(error("tensorboard: {histogram_every: -1}").contains("tensorboard.histogram_every: must be at least 0, got -1"))
        #expect(error("tensorboard: {histogram_evry: 5}").contains("did you mean 'tensorboard.histogram_every'?"))
        #expect(error("tensorboard: {activations: conv1}").contains("tensorboard.activations: must be a list"))
    }

    @Test func anUnknownActivationLayerFailsTheTrialAtOnceNamingTheKey() throws {
        guard let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = tensorBoardExperiment.replacingOccurrences(of: "activations: [conv1]}", with: "activations: [conv9]}")
        let trial = try TensorBoardTrial(text, folder: folder, root: root)
        do {
            _ = try trial.runner().run(resume: false)
            Issue.record("the trial ran")
        } catch let error as LoupeError {
            #expect("\(error)".hasPrefix("tensorboard.activations: 'conv9' is not a layer of the model (known: conv1, "), "\(error)")
        }
        #expect(try MetricRow.read(trial.layout.metrics).map(\.step) == [0], "it fails after the first step")
    }

    @Test func theWriterDoesNotChangeTrainingNumbers() throws {
        guard let root = testDataRoot() else { return }
        let with = try temporaryFolder(), without = try temporaryFolder()
        defer { for f in [with, without] { try? FileManager.default.removeItem(at: f) } }
        let a = try TensorBoardTrial(tensorBoardExperiment, folder: with, root: root)
        let b = try TensorBoardTrial(tensorBoardExperiment, folder: without, root: root)
        let policy = KernelPolicy.current
        _ = try policy.run { try a.runner().run(resume: false) }
        _ = try policy.run { try b.runner(withTensorBoard: false).run(resume: false) }
        #expect(try Data(contentsOf: a.layout.weights) == Data(contentsOf: b.layout.weights))
        #expect(try MetricRow.read(a.layout.metrics).map(\.loss) == MetricRow.read(b.layout.metrics).map(\.loss))
        #expect(TensorBoardLog.eventFiles(in: b.layout.root).isEmpty)
        // One file, starting with the file version; every weight, gradient and activation
        // histogram at steps 10, 20 and 30, the filters image with them.
        let events = try a.events()
        #expect(events.count == 1)
        #expect(events[0].first?.fileVersion == "brain.Event:2")
        let tagSteps = events[0].flatMap { event in event.tags.map { "\($0)@\(event.step)" } }
        for step in [10, 20, 30] {
            for tag in ["conv1.weight", "fc2.bias", "gradients/conv1.weight", "activations/conv1", "filters/conv1.weight"] {
                #expect(tagSteps.filter { $0 == "\(tag)@\(step)" }.count == 1, "\(tag) at \(step)")
            }
        }
        #expect(Set(tagSteps).count == tagSteps.count, "no tag twice at one step")
    }

    /// A recurrent model has no convolution, so no filters image: with histograms every 10
    /// steps the trial runs cleanly (the log's warnings fail the test) and writes a histogram of
    /// every LSTM and dense weight and gradient, and of the LSTM's output on 100 test sequences,
    /// at steps 10, 20 and 30, each once.
    @Test func aRecurrentModelWritesHistogramsOfItsWeightsGradientsAndOutput() throws {
        guard let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = smallRecurrentExperiment.replacingOccurrences(of: "probes:", with: "tensorboard: {histogram_every: 10, activations: [lstm1]}\nprobes:")
        let trial = try TensorBoardTrial(text, folder: folder, root: root)
        #expect(try trial.runner().run(resume: false).status == .completed)
        let events = try trial.events()
        #expect(events.count == 1)
        var counts: [String: Double] = [:]
        let tagSteps = try events[0].filter(\.isHookEvent).flatMap { event in event.tags.map { "\($0)@\(event.step)" } }
        for record in try EventFileReader(url: TensorBoardLog.eventFiles(in: trial.layout.root)[0]).records {
            for (tag, count) in try histogramCounts(record) { counts[tag] = count }
        }
        let parameters = ["lstm1.kernel": 28 * 4 * 48, "lstm1.recurrentKernel": 48 * 4 * 48, "lstm1.bias": 4 * 48,
                          "dense1.weight": 48 * 10, "dense1.bias": 10]
        for (name, count) in parameters {
            for tag in [name, "gradients/\(name)"] {
                #expect(tagSteps.filter { $0.hasPrefix("\(tag)@") } == ["\(tag)@10", "\(tag)@20", "\(tag)@30"], "\(tag)")
                #expect(counts[tag] == Double(count), "\(tag) counts every element")
            }
        }
        #expect(tagSteps.filter { $0.hasPrefix("activations/lstm1@") } == ["activations/lstm1@10", "activations/lstm1@20", "activations/lstm1@30"])
        #expect(counts["activations/lstm1"] == Double(100 * 48), "the last hidden state of 100 test sequences")
        #expect(!tagSteps.contains { $0.hasPrefix("filters/") })
        #expect(Set(tagSteps).count == tagSteps.count && tagSteps.count == 2 * parameters.count * 3 + 3)
    }

    /// Killed after step 25 (rows up to 20 and the evaluation at 20 written, the checkpoint at
    /// 20, then the row of step 20 again after it), then resumed: every step once, in one file.
    @Test(arguments: [true, false]) func resumingWritesEveryStepOnce(keepMarks: Bool) throws {
        guard let root = testDataRoot() else { return }
        let folder = try temporaryFolder(), reference = try temporaryFolder()
        defer { for f in [folder, reference] { try? FileManager.default.removeItem(at: f) } }
        let trial = try TensorBoardTrial(tensorBoardExperiment, folder: folder, root: root)
        _ = try trial.runner().run(resume: false, stoppingAt: 25)
        if !keepMarks {
            // As a writer killed between the checkpoint and its mark, or files from before marks, leave it.
            let url = TensorBoardLog.eventFiles(in: trial.layout.root)[0]
            let records = try EventFileReader(url: url).records.filter { try EventSummary(record: $0, path: "").checkpointStep == nil }
            try Data(records.flatMap(EventFileWriter.frame)).write(to: url)
        }
        let stopped = try trial.events()
        #expect(stopped.count == 1 && stopped[0].contains { $0.tags.contains("loss") && $0.step == 20 })
        _ = try trial.runner().run(resume: true)
        let resumed = try trial.events()
        #expect(resumed.count == 1, "the earlier session's file is replaced")

        let whole = try TensorBoardTrial(tensorBoardExperiment, folder: reference, root: root)
        _ = try whole.runner().run(resume: false)
        func tagSteps(_ events: [EventSummary], histograms: Bool) -> [String] {
            events.flatMap { event in
                event.tags.filter { histograms || ["loss", "accuracy", "learning_rate", "test_accuracy"].contains($0) }.map { "\($0)@\(event.step)" }
            }.sorted()
        }
        // Scalars, histograms and images exactly as an uninterrupted run, each once: without the
        // marks, the histograms of steps 10 and 20 (before the checkpoint, never written again)
        // are kept from the file, and those after it written again.
        #expect(tagSteps(resumed[0], histograms: false) == tagSteps(try whole.events()[0], histograms: false))
        #expect(tagSteps(resumed[0], histograms: true) == tagSteps(try whole.events()[0], histograms: true))
        let all = tagSteps(resumed[0], histograms: true)
        #expect(Set(all).count == all.count)
        #expect(resumed[0].filter { $0.tags.contains("_hparams_/session_start_info") }.count == 1)
    }
}
