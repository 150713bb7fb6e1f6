import Foundation
import LoupeCore
import LoupeData
import LoupeNN

/// The training and test splits a trial uses (loaded once per experiment and shared).
public struct TrialData: Sendable {
    public let train: Dataset
    public let test: Dataset
    public init(train: Dataset, test: Dataset) {
        self.train = train
        self.test = test
    }

    /// Loads the splits `config` names: a catalog dataset, or a path in a format.
    public static func load(_ config: DataConfig, catalog: DatasetCatalog = DatasetCatalog()) throws -> TrialData {
        let source = config.dataset.map { DatasetSource.catalog($0, channels: config.channels, resize: config.resize) }
            ?? DatasetSource.path(config.path!, format: config.format, channels: config.channels, resize: config.resize)
        return TrialData(train: try source.load(.train, catalog: catalog), test: try source.load(.test, catalog: catalog))
    }
}

/// What a running trial reports, for the console and the run store.
public protocol TrialObserver: AnyObject, Sendable {
    func trialStarted(_ trial: Trial, resumedAt step: Int)
    func trialStepped(_ trial: Trial, step: Int, loss: Float)
    func trialLogged(_ trial: Trial, _ row: MetricRow)
    func trialFinished(_ trial: Trial, _ summary: TrialSummary)
}

/// Trains and evaluates one trial, writing its folder (see `ExperimentLayout`).
///
/// The step loop: learning rate from the schedule; the next batch from a batcher seeded with the
/// trial's sampling stream; forward, loss, backward; a NaN or infinite loss ends the trial as
/// `diverged`; optional clipping; the optimizer's update. Every `log_every` steps a metrics row;
/// every `checkpoint_every` steps a checkpoint holding everything needed to continue bit-identically
/// (weights, optimizer slots and step, dropout and sampling generators, the batcher's position).
public final class TrialRunner {
    public let trial: Trial
    public let layout: TrialLayout
    let data: TrialData
    weak var observer: (any TrialObserver)?

    public init(trial: Trial, layout: TrialLayout, data: TrialData, observer: (any TrialObserver)? = nil) {
        self.trial = trial
        self.layout = layout
        self.data = data
        self.observer = observer
    }

    /// Runs the trial to its end (or continues it from its checkpoint when `resume`), returning
    /// its summary. A finished trial is not run again when resuming. With `stoppingAt`, returns
    /// (status `running`) when that many steps are done, saving nothing more: the folder is then
    /// as an interrupted process leaves it.
    public func run(resume: Bool, stoppingAt stop: Int? = nil) throws -> TrialSummary {
        flushDenormals()
        let fm = FileManager.default
        if resume, let done = try? TrialSummary.read(layout.summary), done.status == .completed || done.status == .diverged {
            return done
        }
        let config = trial.config
        let model = try config.model.make(imageShape: data.train.imageShape, classes: data.train.classCount, seed: config.train.seed)
        let probeLayers = try config.probes.activations.map { try model.probeLayer(for: $0) }
        let parameters = model.namedParameters()
        let optimizer = config.optimizer.make()
        var batcher = try Batcher(dataset: data.train, batchSize: config.train.batchSize, mode: config.train.sampling,
                                  generator: RandomGenerator(seed: config.train.seed, stream: RandomStream.sampling))
        var step = 0
        var seconds = 0.0
        var rows: [MetricRow] = []
        // A kill in the middle of replacing a checkpoint leaves the previous one under its old name.
        let previous = layout.root.appendingPathComponent(".checkpoint.old")
        let checkpoint = fm.fileExists(atPath: layout.checkpoint.path) ? layout.checkpoint
            : (fm.fileExists(atPath: previous.path) ? previous : nil)
        if resume, let checkpoint {
            let (_, metadata) = try Checkpoint.restore(model: model, optimizer: optimizer, from: checkpoint)
            guard let s = metadata["step"].flatMap(Int.init), let state = Self.batcherState(metadata) else {
                throw LoupeError.file(path: checkpoint.path, message: "checkpoint lacks its step or batcher state")
            }
            step = s
            seconds = metadata["seconds"].flatMap(Double.init) ?? 0
            batcher = try Batcher(dataset: data.train, batchSize: config.train.batchSize, mode: config.train.sampling, state: state)
            // Rows logged after the checkpoint will be logged again, identically.
            rows = ((try? MetricRow.read(layout.metrics)) ?? []).filter { $0.step < step }
        } else {
            try? fm.removeItem(at: layout.root)
        }
        try fm.createDirectory(at: layout.root, withIntermediateDirectories: true)
        try writeAtomically(Data(trial.tree.yaml().trimmingCharacters(in: .newlines).utf8 + [10]), to: layout.config)
        var summary = TrialSummary(id: trial.id, status: .running, steps: step, seconds: seconds,
                                   parameters: parameters.reduce(0) { $0 + $1.parameter.value.count }, settings: trial.settingsDictionary)
        try summary.write(to: layout.summary)
        let metrics = try MetricsFile(layout.metrics, rows: rows)
        observer?.trialStarted(trial, resumedAt: step)

        model.train()
        let clock = ContinuousClock()
        var sessionStart = clock.now
        while step < config.train.steps {
            if let stop, step >= stop {
                summary.steps = step
                return summary
            }
            let learningRate = config.optimizer.schedule.schedule(step)
            optimizer.learningRate = learningRate
            let batch = batcher.next()
            var logits: Tensor?
            let (loss, computed) = try valueAndGradient(of: model, parameters: parameters) { m in
                let output = try m(batch.images)
                logits = output
                return try softmaxCrossEntropy(logits: output, labels: batch.labels)
            }
            let lossValue = loss.scalar
            var gradients = computed
            if !lossValue.isFinite {
                summary.status = .diverged
                summary.divergedAtStep = step
                summary.steps = step
                summary.seconds = seconds + (clock.now - sessionStart).seconds
                summary.finalLoss = Double(lossValue)
                try summary.write(to: layout.summary)
                observer?.trialFinished(trial, summary)
                return summary
            }
            if let clip = config.optimizer.clipNorm { try clipByGlobalNorm(&gradients, maxNorm: clip) }
            try optimizer.update(parameters, along: gradients)
            if step % config.train.logEvery == 0 || step == config.train.steps - 1 {
                let row = MetricRow(step: step, loss: Double(lossValue), accuracy: Evaluation.accuracy(logits!, batch.labels),
                                    learningRate: Double(learningRate), seconds: seconds + (clock.now - sessionStart).seconds)
                try metrics.append(row)
                rows.append(row)
                observer?.trialLogged(trial, row)
            }
            observer?.trialStepped(trial, step: step, loss: lossValue)
            step += 1
            if config.train.evalEvery > 0 && step % config.train.evalEvery == 0 && step < config.train.steps {
                let (accuracy, _, _) = try Evaluation.evaluate(model, on: data.test, classes: data.train.classCount, probeLayers: [], confusion: false)
                try appendEvaluation(step: step, accuracy: accuracy)
            }
            if config.train.checkpointEvery > 0 && step % config.train.checkpointEvery == 0 && step < config.train.steps {
                seconds += (clock.now - sessionStart).seconds
                sessionStart = clock.now
                try saveCheckpoint(model: model, optimizer: optimizer, batcher: batcher, step: step, seconds: seconds)
            }
        }
        seconds += (clock.now - sessionStart).seconds
        let (accuracy, activations, confusion) = try Evaluation.evaluate(model, on: data.test, classes: data.train.classCount, probeLayers: probeLayers, confusion: config.probes.confusion)
        try Checkpoint.saveWeights(of: model, to: layout.weights, metadata: ["trial": trial.id, "steps": String(step)])
        let tail = rows.suffix(max(1, rows.count / 10))
        summary.status = .completed
        summary.steps = step
        summary.seconds = seconds
        summary.testAccuracy = accuracy
        summary.trainAccuracy = tail.isEmpty ? nil : tail.map(\.accuracy).reduce(0, +) / Double(tail.count)
        summary.finalLoss = rows.last?.loss
        summary.activations = Dictionary(uniqueKeysWithValues: zip(config.probes.activations, activations))
        summary.confusion = confusion
        try summary.write(to: layout.summary)
        try? fm.removeItem(at: layout.checkpoint)
        try? fm.removeItem(at: previous)
        observer?.trialFinished(trial, summary)
        return summary
    }

    func saveCheckpoint(model: Sequential, optimizer: any Optimizer, batcher: Batcher, step: Int, seconds: Double) throws {
        let state = batcher.state
        try Checkpoint.save(model: model, optimizer: optimizer, metadata: [
            "step": String(step), "seconds": String(seconds),
            "batcher.generator": state.generator.map(String.init).joined(separator: ","),
            "batcher.produced": String(state.batchesProduced), "batcher.epoch": String(state.epoch),
            "batcher.position": String(state.position),
        ], to: layout.checkpoint)
    }

    static func batcherState(_ metadata: [String: String]) -> BatcherState? {
        guard let words = metadata["batcher.generator"]?.split(separator: ",").compactMap({ UInt32($0) }),
              let produced = metadata["batcher.produced"].flatMap(Int.init),
              let epoch = metadata["batcher.epoch"].flatMap(Int.init),
              let position = metadata["batcher.position"].flatMap(Int.init) else { return nil }
        return BatcherState(generator: words, batchesProduced: produced, epoch: epoch, position: position)
    }

    func appendEvaluation(step: Int, accuracy: Double) throws {
        let url = layout.root.appendingPathComponent("evaluations.csv")
        var text = (try? String(contentsOf: url, encoding: .utf8)) ?? "step,test_accuracy\n"
        text += "\(step),\(accuracy)\n"
        try writeAtomically(Data(text.utf8), to: url)
    }
}

/// `metrics.csv`, rewritten from the kept rows when opened, then appended to row by row.
final class MetricsFile {
    let handle: FileHandle
    let url: URL

    init(_ url: URL, rows: [MetricRow]) throws {
        self.url = url
        let text = ([MetricRow.header] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
        try writeAtomically(Data(text.utf8), to: url)
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw LoupeError.file(path: url.path, message: "cannot be opened for writing")
        }
        handle.seekToEndOfFile()
    }

    func append(_ row: MetricRow) throws {
        do { try handle.write(contentsOf: Data((row.csvLine + "\n").utf8)) } catch {
            throw LoupeError.file(path: url.path, message: "cannot be written (\(error.localizedDescription))")
        }
    }

    deinit { try? handle.close() }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
