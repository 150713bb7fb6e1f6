import Foundation
import LoupeCore

/// Where an experiment's results live. `loupe run FILE --out DIR` writes:
///
///     DIR/experiment.yaml              the effective experiment: the file with the --set overrides applied
///     DIR/experiment.json              `EffectiveExperiment`: file and text, overrides, command line, version, kernels, threads
///     DIR/runs.sqlite                  the run index of trials and their metrics, rebuilt from the trial folders
///     DIR/trials/.<id>.lock            the trial's lock, held by the process running it (`TrialLock`)
///     DIR/events.out.tfevents.*        TensorBoard: the HParams experiment (swept settings, metrics)
///     DIR/trials/<id>/config.yaml      the trial's resolved settings
///     DIR/trials/<id>/metrics.csv      step,loss,accuracy,learning_rate,seconds (one row every log_every steps)
///     DIR/trials/<id>/evaluations.csv  step,test_accuracy[,validation_loss,validation_accuracy] (every eval_every steps)
///     DIR/trials/<id>/summary.json     `TrialSummary`
///     DIR/trials/<id>/weights.safetensors   final weights (`conv1.weight` HWIO, dense [in, out])
///     DIR/trials/<id>/checkpoint.safetensors   the latest `TrialState`, while the trial runs
///     DIR/trials/<id>/events.out.tfevents.*     TensorBoard events: scalars, HParams session, histograms, filters
///     DIR/report.html, DIR/report.md, DIR/report/   written by `loupe report DIR`
public struct ExperimentLayout: Sendable {
    public let root: URL
    public init(root: URL) { self.root = root }

    public var experimentFile: URL { root.appendingPathComponent("experiment.yaml") }
    public var effectiveExperimentFile: URL { root.appendingPathComponent("experiment.json") }
    public var store: URL { root.appendingPathComponent("runs.sqlite") }
    public var trialsFolder: URL { root.appendingPathComponent("trials") }
    public func trial(_ id: String) -> TrialLayout { TrialLayout(root: trialsFolder.appendingPathComponent(id)) }

    /// The trial folders present, sorted by name.
    public func trialIDs() throws -> [String] {
        guard FileManager.default.fileExists(atPath: trialsFolder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: trialsFolder.path).filter { !$0.hasPrefix(".") }.sorted()
    }
}

/// One trial's files (see `ExperimentLayout`).
public struct TrialLayout: Sendable {
    public let root: URL
    public init(root: URL) { self.root = root }
    public var config: URL { root.appendingPathComponent("config.yaml") }
    public var metrics: URL { root.appendingPathComponent("metrics.csv") }
    public var summary: URL { root.appendingPathComponent("summary.json") }
    public var weights: URL { root.appendingPathComponent("weights.safetensors") }
    public var evaluations: URL { root.appendingPathComponent("evaluations.csv") }
    public var checkpoint: URL { root.appendingPathComponent("checkpoint.safetensors") }
    /// The convolution filters (every 4-D weight) as initialised, before the first step: what
    /// the report draws beside the trained filters.
    public var initialFilters: URL { root.appendingPathComponent("initial-filters.safetensors") }
}

/// How a trial ended.
public enum TrialStatus: String, Codable, Sendable {
    /// Running, or killed while it ran (its checkpoint, if any, is where `--resume` continues).
    case running
    case completed, diverged, failed
    /// Stopped on request (Ctrl-C, SIGTERM) after a checkpoint: `--resume` continues it.
    case interrupted
}

/// Mean and variance of a layer's activations over a whole data set.
public struct ActivationStatistics: Codable, Sendable, Equatable {
    public var mean: Double
    public var variance: Double
    public init(mean: Double, variance: Double) {
        self.mean = mean
        self.variance = variance
    }
}

/// `summary.json`: what a trial achieved. Written atomically when the trial ends (and with
/// status `running` when it starts).
public struct TrialSummary: Codable, Sendable, Equatable {
    /// Stable id derived from the settings (a hash), also the folder name.
    public var id: String
    public var status: TrialStatus
    /// Steps completed.
    public var steps: Int
    /// Training wall-clock seconds (summed over resumed sessions).
    public var seconds: Double
    /// Accuracy over the whole test split (nil when not evaluated: diverged or failed).
    public var testAccuracy: Double?
    /// Mean minibatch accuracy over the last logged tenth of training (for the overfitting flag).
    public var trainAccuracy: Double?
    /// Loss at the last logged step.
    public var finalLoss: Double?
    /// Probed layers' activation statistics over the test set, by layer name
    /// (after the activation function, before pooling: `relu1` is reported as `conv1`).
    public var activations: [String: ActivationStatistics]
    /// Number of trainable parameters.
    public var parameters: Int
    /// The settings that vary across trials of a sweep, as text (`optimizer.name: adam`,
    /// `optimizer.lr: 0.001`, `train.seed: 0`), for tables and grouping.
    public var settings: [String: String]
    /// The step at which the loss or a gradient became NaN or infinite, when diverged.
    public var divergedAtStep: Int?
    /// What was not finite first, when diverged: `loss`, or `gradient of <parameter>`.
    public var nonFinite: String?
    /// The kernels the trial ran on (they agree only to rounding).
    public var kernels: KernelPolicy?
    /// The worker threads of its parallel loops (results do not depend on it).
    public var threads: Int?
    /// Confusion matrix over the test set (rows true class, columns prediction), when probed.
    public var confusion: [[Int]]?
    /// The data's classes and the test split's images (for the at-chance flag; nil in older summaries).
    public var classes: Int?
    public var testImages: Int?
    /// The classes' names in label order, for the report's confusion matrices (nil in older summaries).
    public var classNames: [String]?
    /// On the held-out validation split, with the final weights (the best, with `keep_best`).
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// The step of the best validation evaluation, when early stopping or `keep_best` watched.
    public var bestStep: Int?
    /// The step at which early stopping ended the trial.
    public var stoppedEarlyAt: Int?
    /// An error message, when failed.
    public var error: String?
    /// The trial's index in the sweep when it ran (`Trial.index`): `loupe trials --out` tells
    /// from it which indices a changed experiment moved.
    public var index: Int?

    public init(id: String, status: TrialStatus, steps: Int, seconds: Double, testAccuracy: Double? = nil,
                trainAccuracy: Double? = nil, finalLoss: Double? = nil, activations: [String: ActivationStatistics] = [:],
                parameters: Int, settings: [String: String], divergedAtStep: Int? = nil, nonFinite: String? = nil,
                kernels: KernelPolicy? = nil, threads: Int? = nil, confusion: [[Int]]? = nil, error: String? = nil) {
        self.id = id
        self.status = status
        self.steps = steps
        self.seconds = seconds
        self.testAccuracy = testAccuracy
        self.trainAccuracy = trainAccuracy
        self.finalLoss = finalLoss
        self.activations = activations
        self.parameters = parameters
        self.settings = settings
        self.divergedAtStep = divergedAtStep
        self.nonFinite = nonFinite
        self.kernels = kernels
        self.threads = threads
        self.confusion = confusion
        self.error = error
    }

    /// Wall time per training step: the training seconds (evaluations and checkpoints
    /// included) over `steps` (default: the summary's), nil before any.
    public func millisecondsPerStep(over steps: Int? = nil) -> Double? {
        let steps = steps ?? self.steps
        return steps > 0 && seconds > 0 ? seconds * 1000 / Double(steps) : nil
    }

    enum CodingKeys: String, CodingKey {
        case id, status, steps, seconds, activations, parameters, settings, confusion, error, kernels, threads, index, classes
        case testImages = "test_images", classNames = "class_names", validationLoss = "validation_loss", validationAccuracy = "validation_accuracy"
        case bestStep = "best_step", stoppedEarlyAt = "stopped_early_at"
        case testAccuracy = "test_accuracy", trainAccuracy = "train_accuracy", finalLoss = "final_loss"
        case divergedAtStep = "diverged_at_step", nonFinite = "non_finite"
    }

    /// The order every table lists trials in (the console's and the report's): best test accuracy
    /// first; then trials not evaluated, then diverged, then failed; ties by id.
    public static func ranked(_ a: TrialSummary, before b: TrialSummary) -> Bool {
        func rank(_ summary: TrialSummary) -> Int {
            switch summary.status {
            case .failed: return 3
            case .diverged: return 2
            default: return summary.testAccuracy == nil ? 1 : 0
            }
        }
        if rank(a) != rank(b) { return rank(a) < rank(b) }
        if a.testAccuracy != b.testAccuracy { return (a.testAccuracy ?? 0) > (b.testAccuracy ?? 0) }
        return a.id < b.id
    }

    /// JSON coders for summaries: sorted keys, and NaN or infinite losses as "nan", "inf", "-inf".
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    public static func read(_ url: URL) throws -> TrialSummary {
        do {
            return try decoder.decode(TrialSummary.self, from: Data(contentsOf: url))
        } catch {
            throw LoupeError.file(path: url.path, message: "is not a trial summary (\(error))")
        }
    }

    public func write(to url: URL) throws {
        try writeAtomically(try Self.encoder.encode(self), to: url)
    }
}

/// One row of `metrics.csv`.
public struct MetricRow: Sendable, Equatable {
    public var step: Int
    public var loss: Double
    /// Minibatch accuracy.
    public var accuracy: Double
    public var learningRate: Double
    /// Seconds since the trial started (summed over resumed sessions).
    public var seconds: Double

    public init(step: Int, loss: Double, accuracy: Double, learningRate: Double, seconds: Double) {
        (self.step, self.loss, self.accuracy, self.learningRate, self.seconds) = (step, loss, accuracy, learningRate, seconds)
    }

    public static let header = "step,loss,accuracy,learning_rate,seconds"

    /// The row as CSV, each number in the shortest form that reads back to the same bits: the
    /// loss and learning rate as the Floats the trainer computed them in, the accuracy (a
    /// fraction of the batch) as a Double; seconds to the millisecond.
    public var csvLine: String { "\(step),\(Float(loss)),\(accuracy),\(Float(learningRate)),\(String(format: "%.3f", seconds))" }

    /// Reads a metrics file; throws naming the file and line on malformed rows. The loss and
    /// learning rate are read as Floats, then widened, as the trainer's rows hold them: a resumed
    /// trial's earlier rows are then the very values an uninterrupted run has.
    public static func read(_ url: URL) throws -> [MetricRow] {
        try readCSV(url, header: header) { fields in
            guard fields.count == 5, let step = Int(fields[0]), let loss = Float(fields[1]), let accuracy = Double(fields[2]),
                  let lr = Float(fields[3]), let seconds = Double(fields[4]) else { return nil }
            return MetricRow(step: step, loss: Double(loss), accuracy: accuracy, learningRate: Double(lr), seconds: seconds)
        }
    }
}

/// One row of `evaluations.csv`: test accuracy during training.
public struct EvaluationRow: Sendable, Equatable {
    /// Steps done when it was measured.
    public var step: Int
    public var testAccuracy: Double
    /// On the split `data.validation` held out, when there is one.
    public var validationLoss: Double?
    public var validationAccuracy: Double?

    public init(step: Int, testAccuracy: Double, validationLoss: Double? = nil, validationAccuracy: Double? = nil) {
        self.step = step
        self.testAccuracy = testAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
    }

    public static let header = "step,test_accuracy"
    /// The header of trials with a validation split.
    public static let validationHeader = "step,test_accuracy,validation_loss,validation_accuracy"
    public var csvLine: String {
        guard let validationLoss, let validationAccuracy else { return "\(step),\(testAccuracy)" }
        return "\(step),\(testAccuracy),\(validationLoss),\(validationAccuracy)"
    }

    /// Reads an evaluations file (either header); throws naming the file and line on malformed rows.
    public static func read(_ url: URL) throws -> [EvaluationRow] {
        let first = (try? String(contentsOf: url, encoding: .utf8))?.split(separator: "\n").first.map(String.init)
        if first == validationHeader {
            return try readCSV(url, header: validationHeader) { fields in
                guard fields.count == 4, let step = Int(fields[0]), let accuracy = Double(fields[1]), let loss = Double(fields[2]),
                      let validation = Double(fields[3]) else { return nil }
                return EvaluationRow(step: step, testAccuracy: accuracy, validationLoss: loss, validationAccuracy: validation)
            }
        }
        return try readCSV(url, header: header) { fields in
            guard fields.count == 2, let step = Int(fields[0]), let accuracy = Double(fields[1]) else { return nil }
            return EvaluationRow(step: step, testAccuracy: accuracy)
        }
    }
}

/// The rows of a CSV file whose first line is `header`, each parsed by `parse` from its fields
/// (nil: malformed); throws naming the file and the line at fault.
func readCSV<Row>(_ url: URL, header: String, _ parse: ([Substring]) -> Row?) throws -> [Row] {
    let text: String
    do { text = try String(contentsOf: url, encoding: .utf8) } catch {
        throw LoupeError.file(path: url.path, message: "cannot be read")
    }
    var rows: [Row] = []
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
        if index == 0 {
            guard line == header else { throw LoupeError.file(path: url.path, message: "line 1 is not the header \(header)") }
            continue
        }
        guard let row = parse(line.split(separator: ",", omittingEmptySubsequences: false)) else {
            throw LoupeError.file(path: url.path, message: "line \(index + 1) is not \(header)")
        }
        rows.append(row)
    }
    return rows
}
