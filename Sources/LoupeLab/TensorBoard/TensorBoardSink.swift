import Foundation
import LoupeCore

/// Writes a trial's measurements as TensorBoard scalars, as they happen: `loss`, `accuracy`
/// (the minibatch's) and `learning_rate` at every logged step, `test_accuracy` (and, with a
/// validation split, `validation_loss` and `validation_accuracy`) at each evaluation and, for the final weights, at the last step; with the HParams session's start
/// (when the trial starts) and end (its status). Tags are the CSV files' column names. Each
/// event carries its wall time. `tensorboard --logdir RESULTS_DIR` shows them.
public final class TensorBoardSink: MetricSink {
    public let log: TensorBoardLog

    public init(log: TensorBoardLog) { self.log = log }

    public func trialStarted(_ trial: Trial, at step: Int, history: TrialHistory) {
        log.open(trial, at: step, history: history)
    }

    public func trialStepped(_ trial: Trial, step: Int, loss: Float) { log.flushIfDue() }

    public func trialLogged(_ trial: Trial, _ row: MetricRow) {
        log.write(step: row.step, Self.values(of: row))
    }

    public func trialEvaluated(_ trial: Trial, _ evaluation: EvaluationRow) {
        log.write(step: evaluation.step, Self.values(of: evaluation), flush: true)
    }

    public func trialFinished(_ trial: Trial, _ summary: TrialSummary) {
        if let accuracy = summary.testAccuracy {
            log.write(step: summary.steps, [.scalar(tag: "test_accuracy", value: Float(accuracy))])
        }
        if log.hparams != nil {
            let now = Date().timeIntervalSince1970
            log.write(step: summary.steps, [HParamsExperiment.sessionEndValue(succeeded: summary.status == .completed, endedAt: now)])
        }
        log.flush()
    }

    static func values(of row: MetricRow) -> [SummaryValue] {
        [.scalar(tag: "loss", value: Float(row.loss)), .scalar(tag: "accuracy", value: Float(row.accuracy)),
         .scalar(tag: "learning_rate", value: Float(row.learningRate))]
    }

    static func values(of evaluation: EvaluationRow) -> [SummaryValue] {
        var values: [SummaryValue] = [.scalar(tag: "test_accuracy", value: Float(evaluation.testAccuracy))]
        if let loss = evaluation.validationLoss, let accuracy = evaluation.validationAccuracy {
            values += [.scalar(tag: "validation_loss", value: Float(loss)), .scalar(tag: "validation_accuracy", value: Float(accuracy))]
        }
        return values
    }
}

extension HParamsExperiment {
    /// Writes the `_hparams_/experiment` summary in `folder` (the results folder: TensorBoard's
    /// run "."), replacing the event files an earlier session left there (unless `replacing` is
    /// false: array tasks never remove another task's file). Written whole, then renamed, by
    /// `write`.
    public func writeSummary(in folder: URL, replacing: Bool = true, write: (Data, URL) throws -> Void = writeAtomically) throws {
        let old = TensorBoardLog.eventFiles(in: folder)
        let now = Date().timeIntervalSince1970
        var bytes: [UInt8] = []
        bytes += EventFileWriter.frame(TensorBoardEvent.fileVersion(wallTime: now))
        bytes += EventFileWriter.frame(TensorBoardEvent.summary(wallTime: now, step: 0, [experimentValue(createdAt: now)]))
        let url = folder.appendingPathComponent(EventFileWriter.fileName())
        try write(Data(bytes), url)
        guard replacing else { return }
        for file in old where file != url { try? FileManager.default.removeItem(at: file) }
    }
}
