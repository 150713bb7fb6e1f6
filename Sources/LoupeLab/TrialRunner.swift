import Foundation
import LoupeCore
import LoupeData
import LoupeNN

/// The training and test splits a trial uses (loaded once per experiment and shared).
public struct TrialData: Sendable {
    public let train: Dataset
    public let test: Dataset
    /// Held out from the training split by `data.validation` (then not in `train`).
    public let validation: Dataset?
    public init(train: Dataset, test: Dataset, validation: Dataset? = nil) {
        self.train = train
        self.test = test
        self.validation = validation
    }

    /// Loads the splits `config` names, a catalog dataset or a path in a format, and checks that
    /// they agree (classes, sizes, neither empty) before any trial starts.
    public static func load(_ config: DataConfig, catalog: DatasetCatalog = DatasetCatalog()) throws -> TrialData {
        let location = config.dataset.map { DatasetSource.Location.catalog($0) } ?? .path(config.path!, format: config.format)
        let source = DatasetSource(location, channels: config.channels, resize: config.resize, classes: config.classes)
        var (train, test) = try source.loadSplits(catalog: catalog)
        if config.sequence == .rows { (train, test) = (train.readingRows(), test.readingRows()) }
        guard let share = config.validation else { return TrialData(train: train, test: test) }
        let (kept, heldOut) = try holdOut(share, of: train, seed: config.validationSeed)
        return TrialData(train: kept, test: test, validation: heldOut)
    }

    /// Splits `train` into the examples kept for training and ⌈share · count⌉ held out, drawn by
    /// a Fisher–Yates shuffle on the `validation` stream of `seed` (the same split for every
    /// trial and run); each part keeps the split's order.
    static func holdOut(_ share: Double, of train: Dataset, seed: UInt64) throws -> (train: Dataset, validation: Dataset) {
        let count = train.count, held = Int((share * Double(count)).rounded(.up))
        guard held >= 1, held < count else {
            throw LoupeError.config(key: "data.validation", message: "holds out \(held) of \(count) training examples; leave at least one on each side")
        }
        var generator = RandomStreams(seed: seed).generator("validation")
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, generator.nextInt(below: i + 1)) }
        let validation = order.prefix(held).sorted(), kept = order.dropFirst(held).sorted()
        return (train.subset(Array(kept)), train.subset(Array(validation)))
    }
}

/// Runs one trial and writes its folder (see `ExperimentLayout`): builds its `TrialState` (or
/// restores it from the checkpoint when resuming), hands the step loop to `Trainer`, then
/// evaluates the final weights on the test split (accuracy, activation probes, confusion) and
/// writes `weights.safetensors` and, after the sinks and hooks have had the end, `summary.json`
/// (so a finished summary means nothing of the trial is left to write). Rows, evaluations and the
/// summary go to the sinks as they happen; hooks run at the trainer's fixed points and when the trial ends. The
/// whole trial runs under one `KernelPolicy`, recorded in its summary.
public final class TrialRunner {
    public let trial: Trial
    public let layout: TrialLayout
    let data: TrialData
    let sinks: [any MetricSink]
    let hooks: [any TrainerHook]
    let kernels: KernelPolicy
    let stopRequest: StopRequest?

    /// `stopRequest`, when it is requested, ends the trial after its current step, with a checkpoint.
    public init(trial: Trial, layout: TrialLayout, data: TrialData, sinks: [any MetricSink] = [], hooks: [any TrainerHook] = [],
                kernels: KernelPolicy = .current, stopRequest: StopRequest? = nil) {
        self.trial = trial
        self.layout = layout
        self.data = data
        self.sinks = sinks
        self.hooks = hooks
        self.kernels = kernels
        self.stopRequest = stopRequest
    }

    /// A fresh state for this trial: its model, optimizer and batcher, from its seed's streams.
    public func makeState() throws -> TrialState {
        let config = trial.config, streams = RandomStreams(seed: config.train.seed)
        let model = try config.model.make(sampleShape: data.train.sampleShape, classes: data.train.classCount, streams: streams)
        let batcher = try Batcher(dataset: data.train, batchSize: config.train.batchSize, mode: config.train.sampling,
                                  generator: streams.sampling)
        return TrialState(model: model, optimizer: config.optimizer.make(), batcher: batcher)
    }

    /// Runs the trial to its end (or continues it from its checkpoint when `resume`), returning
    /// its summary. A finished trial is not run again when resuming. With `stoppingAt`, returns
    /// (status `running`) when that many steps are done, saving nothing more: the folder is then
    /// as an interrupted process leaves it.
    public func run(resume: Bool, stoppingAt stop: Int? = nil) throws -> TrialSummary {
        flushDenormals()
        if resume, let done = try? TrialSummary.read(layout.summary), done.status == .completed || done.status == .diverged {
            // A kill right after the summary was written leaves the checkpoint (and perhaps a
            // temporary file of an earlier write).
            try? FileManager.default.removeItem(at: layout.checkpoint)
            AtomicFile.removeLeftovers(in: layout.root)
            return done
        }
        return try kernels.run { try train(resume: resume, stoppingAt: stop) }
    }

    private func train(resume: Bool, stoppingAt stop: Int?) throws -> TrialSummary {
        let fm = FileManager.default
        var config = trial.config
        config.train.steps = config.train.resolvedSteps(trainingExamples: data.train.count)
        let state = try makeState()
        let probes = try config.probes.activations.map { try state.model.probePoint(named: $0) }
        var history = TrialHistory()
        if resume && fm.fileExists(atPath: layout.checkpoint.path) {
            // A kill during an atomic write leaves its temporary file (`.<name>.<pid>.<n>.tmp`).
            AtomicFile.removeLeftovers(in: layout.root)
            try state.restore(from: layout.checkpoint)
            history = try TrialHistory.read(layout, before: state.step)
        } else {
            try? fm.removeItem(at: layout.root)
        }
        try fm.createDirectory(at: layout.root, withIntermediateDirectories: true)
        try writeAtomically(Data(trial.tree.yaml().trimmingCharacters(in: .newlines).utf8 + [10]), to: layout.config)
        if state.step == 0 {
            let filters = state.model.parameters.filter { $0.parameter.value.rank == 4 }.map { ($0.name, $0.parameter.value) }
            if !filters.isEmpty { try Safetensors.write(filters, metadata: ["trial": trial.id, "steps": "0"], to: layout.initialFilters) }
        }
        var summary = TrialSummary(id: trial.id, status: .running, steps: state.step, seconds: state.seconds,
                                   parameters: state.model.parameters.reduce(0) { $0 + $1.parameter.value.count },
                                   settings: trial.settingsDictionary, kernels: kernels.effective, threads: computeThreads)
        summary.index = trial.index
        summary.classes = data.train.classCount
        summary.classNames = data.train.classNames
        summary.testImages = data.test.count
        try summary.write(to: layout.summary)
        let csv = CSVMetricsSink(layout: layout)
        let sinks: [any MetricSink] = [csv] + self.sinks
        for sink in sinks { sink.trialStarted(trial, at: state.step, history: history) }

        let context = TrainerContext(trial: trial, state: state, layout: layout)
        let trainer = Trainer(context: context, config: config, test: data.test, validation: data.validation, history: history,
                              sinks: sinks, hooks: hooks, stopRequest: stopRequest)
        let outcome = try trainer.run(stoppingAt: stop)
        let rows = trainer.rows
        try csv.check()
        summary.steps = state.step
        summary.seconds = state.seconds
        switch outcome {
        case .stopped:
            return summary
        case .interrupted:
            summary.status = .interrupted
            summary.finalLoss = rows.last?.loss
            try summary.write(to: layout.summary)
            for sink in sinks { sink.trialFinished(trial, summary) }
            return summary
        case let .diverged(step, tensor, loss):
            summary.status = .diverged
            summary.divergedAtStep = step
            summary.nonFinite = tensor
            summary.finalLoss = Double(loss)
        case .completed:
            for sink in sinks { sink.trialEvaluating(trial) }
            if config.train.keepBest, let best = state.validation.bestWeights {
                for p in state.model.parameters { p.parameter.value = best[p.name]! }
            }
            if let validation = data.validation {
                let measured = try EvaluationReport(state.model, on: validation)
                (summary.validationLoss, summary.validationAccuracy) = (measured.loss, measured.accuracy)
            }
            summary.bestStep = state.validation.bestStep
            summary.stoppedEarlyAt = state.validation.stoppedEarly ? state.step : nil
            let (accuracy, activations, confusion) = try Evaluation.evaluate(state.model, on: data.test, classes: data.train.classCount,
                                                                             probePoints: probes, confusion: config.probes.confusion)
            try Checkpoint.saveWeights(of: state.model, to: layout.weights, metadata: ["trial": trial.id, "steps": String(state.step)])
            let tail = rows.suffix(max(1, rows.count / 10))
            summary.status = .completed
            summary.testAccuracy = accuracy
            summary.trainAccuracy = tail.isEmpty ? nil : tail.map(\.accuracy).reduce(0, +) / Double(tail.count)
            summary.finalLoss = rows.last?.loss
            summary.activations = Dictionary(uniqueKeysWithValues: zip(config.probes.activations, activations))
            summary.confusion = confusion
        }
        // summary.json saying the trial finished is the last thing written: a kill before it
        // resumes from the checkpoint and redoes the end (TensorBoard's
        // last scalars and histograms); after it, only the checkpoint's removal is left, which
        // a resume does.
        for sink in sinks { sink.trialFinished(trial, summary) }
        for hook in hooks { try hook.trialEnded(context, summary) }
        try summary.write(to: layout.summary)
        try? fm.removeItem(at: layout.checkpoint)
        return summary
    }
}
