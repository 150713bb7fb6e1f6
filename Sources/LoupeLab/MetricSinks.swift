import Foundation
import LoupeCore

/// Where a trial's measurements go as they happen: the console, the CSV files of its folder,
/// TensorBoard's event files. (The run index is rebuilt from the folders: `RunStore.rebuild`.) Each receives every logged row,
/// every evaluation and the summary from the trainer; none reads them back from disk.
/// Every method has an empty default, so a sink implements what it uses.
public protocol MetricSink: AnyObject {
    /// The trial starts at `step` (0, or where a resumed trial continues); `history` holds what
    /// its earlier sessions logged before that step.
    func trialStarted(_ trial: Trial, at step: Int, history: TrialHistory)
    /// A step was done: `step` counts from 0; `loss` is the minibatch's.
    func trialStepped(_ trial: Trial, step: Int, loss: Float)
    func trialLogged(_ trial: Trial, _ row: MetricRow)
    func trialEvaluated(_ trial: Trial, _ evaluation: EvaluationRow)
    /// Training is done and the final evaluation over the test split begins.
    func trialEvaluating(_ trial: Trial)
    /// The trial ended (completed, diverged or failed).
    func trialFinished(_ trial: Trial, _ summary: TrialSummary)
}

extension MetricSink {
    public func trialStarted(_ trial: Trial, at step: Int, history: TrialHistory) {}
    public func trialStepped(_ trial: Trial, step: Int, loss: Float) {}
    public func trialLogged(_ trial: Trial, _ row: MetricRow) {}
    public func trialEvaluated(_ trial: Trial, _ evaluation: EvaluationRow) {}
    public func trialEvaluating(_ trial: Trial) {}
    public func trialFinished(_ trial: Trial, _ summary: TrialSummary) {}
}

/// What a trial logged before the step it continues from.
public struct TrialHistory: Sendable, Equatable {
    public var rows: [MetricRow]
    public var evaluations: [EvaluationRow]

    public init(rows: [MetricRow] = [], evaluations: [EvaluationRow] = []) {
        self.rows = rows
        self.evaluations = evaluations
    }

    /// What `layout`'s files hold from before `step`: rows of steps before it, evaluations made
    /// at or before it (an evaluation at step s comes before the checkpoint at s). Rows logged
    /// after the checkpoint are dropped: the resumed trial logs them again, identically.
    public static func read(_ layout: TrialLayout, before step: Int) throws -> TrialHistory {
        let fm = FileManager.default
        let rows = fm.fileExists(atPath: layout.metrics.path) ? try MetricRow.read(layout.metrics) : []
        let evaluations = fm.fileExists(atPath: layout.evaluations.path) ? try EvaluationRow.read(layout.evaluations) : []
        return TrialHistory(rows: rows.filter { $0.step < step }, evaluations: evaluations.filter { $0.step <= step })
    }
}

/// `metrics.csv` and `evaluations.csv` in a trial's folder: rewritten from the history when the
/// trial starts, then appended to, a line at a time.
public final class CSVMetricsSink: MetricSink {
    let layout: TrialLayout
    private var metrics: AppendingFile?
    private var evaluations: AppendingFile?
    private var header = EvaluationRow.header
    /// The first write error, rethrown by `check()` (a sink's methods cannot throw).
    public private(set) var failure: LoupeError?

    public init(layout: TrialLayout) { self.layout = layout }

    public func trialStarted(_ trial: Trial, at step: Int, history: TrialHistory) {
        record {
            metrics = try AppendingFile(layout.metrics, lines: [MetricRow.header] + history.rows.map(\.csvLine))
            header = trial.config.data.validation == nil ? EvaluationRow.header : EvaluationRow.validationHeader
            evaluations = history.evaluations.isEmpty ? nil
                : try AppendingFile(layout.evaluations, lines: [header] + history.evaluations.map(\.csvLine))
        }
    }

    public func trialLogged(_ trial: Trial, _ row: MetricRow) {
        record { try metrics?.append(row.csvLine) }
    }

    public func trialEvaluated(_ trial: Trial, _ evaluation: EvaluationRow) {
        record {
            if evaluations == nil { evaluations = try AppendingFile(layout.evaluations, lines: [header]) }
            try evaluations?.append(evaluation.csvLine)
        }
    }

    public func trialFinished(_ trial: Trial, _ summary: TrialSummary) {
        metrics = nil
        evaluations = nil
    }

    /// Throws the first error a write met.
    public func check() throws {
        if let failure { throw failure }
    }

    private func record(_ body: () throws -> Void) {
        guard failure == nil else { return }
        do { try body() } catch let error as LoupeError { failure = error } catch {
            failure = .file(path: layout.root.path, message: "cannot be written (\(error))")
        }
    }
}

/// A text file written whole (atomically) when opened, then appended to line by line.
final class AppendingFile {
    let handle: FileHandle
    let url: URL

    init(_ url: URL, lines: [String]) throws {
        self.url = url
        try writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: url)
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw LoupeError.file(path: url.path, message: "cannot be opened for writing")
        }
        handle.seekToEndOfFile()
    }

    func append(_ line: String) throws {
        do { try handle.write(contentsOf: Data((line + "\n").utf8)) } catch {
            throw LoupeError.file(path: url.path, message: "cannot be written (\(error.localizedDescription))")
        }
    }

    deinit { try? handle.close() }
}
