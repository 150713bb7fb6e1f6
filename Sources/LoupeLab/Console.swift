import Foundation
import LoupeCore

/// The console side of a run: a progress bar (when the output is a terminal), the periodic lines of
/// the reference (`step 290, loss 1.395, train accuracy 0.50`), one line per finished trial, and the
/// results table at the end. Trials running side by side prefix their lines with their id.
public final class Console: MetricSink, @unchecked Sendable {
    private let lock = NSLock()
    private let interactive: Bool
    private let quiet: Bool
    private var prefixLines = false
    private var totalTrials = 0
    private var startedTrials = 0
    private var progress: [String: (step: Int, total: Int, started: ContinuousClock.Instant, firstStep: Int, loss: Float, lastDraw: ContinuousClock.Instant)] = [:]
    private let clock = ContinuousClock()
    private let write: @Sendable (String) -> Void

    /// `write` receives each piece of output (standard output by default).
    public init(quiet: Bool = false, interactive: Bool? = nil,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }) {
        self.quiet = quiet
        self.interactive = interactive ?? (isatty(STDOUT_FILENO) == 1)
        self.write = write
    }

    func experimentStarted(trials: Int, jobs: Int) {
        lock.withLock {
            totalTrials = trials
            prefixLines = jobs > 1 || trials > 1
        }
    }

    public func say(_ line: String) {
        lock.withLock { emit(line) }
    }

    /// Prints a line above the progress bars.
    private func emit(_ line: String) {
        if interactive { write("\r\u{1B}[2K") }  // clear the bar line first
        write(line + "\n")
        if interactive { drawBars() }
    }

    private func drawBars() {
        guard interactive, !quiet else { return }
        let parts = progress.sorted { $0.key < $1.key }.map { id, p -> String in
            // `step` is the last step done (firstStep − 1 before the first).
            let done = p.step + 1 - p.firstStep
            let elapsed = (clock.now - p.started).seconds
            let rate = elapsed > 0 && done > 0 ? Double(done) / elapsed : 0
            let eta = rate > 0 ? Double(p.total - p.step - 1) / rate : 0
            let width = 20, filled = p.total > 0 ? max(0, min(width, (p.step + 1) * width / p.total)) : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let speed = done > 0 ? "\(String(format: "%.1f", rate)) steps/s ETA \(Self.duration(eta))" : "starting"
            let loss = p.loss.isNaN ? "—" : String(format: "%.3f", p.loss)
            return "\(progress.count > 1 ? String(id.prefix(18)) + " " : "")\(bar) \(p.step + 1)/\(p.total) \(speed) loss \(loss)"
        }
        write("\r\u{1B}[2K" + parts.joined(separator: " │ "))
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "—" }
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }

    public func trialStarted(_ trial: Trial, at step: Int, history: TrialHistory) {
        lock.withLock {
            startedTrials += 1
            progress[trial.id] = (step - 1, trial.config.train.steps, clock.now, step, .nan, clock.now)
            let settings = trial.settings.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            emit("▶ [\(startedTrials)/\(totalTrials)] \(trial.id)\(settings.isEmpty ? "" : "  \(settings)")\(step > 0 ? "  (resumed at step \(step))" : "")")
        }
    }

    public func trialStepped(_ trial: Trial, step: Int, loss: Float) {
        lock.withLock {
            guard var p = progress[trial.id] else { return }
            p.step = step
            p.loss = loss
            if interactive && (clock.now - p.lastDraw).seconds > 0.1 {
                p.lastDraw = clock.now
                progress[trial.id] = p
                drawBars()
            } else {
                progress[trial.id] = p
            }
        }
    }

    public func trialLogged(_ trial: Trial, _ row: MetricRow) {
        guard !quiet else { return }
        lock.withLock {
            let prefix = prefixLines ? "  \(trial.id): " : ""
            emit("\(prefix)step \(row.step), loss \(String(format: "%.3f", row.loss)), train accuracy \(String(format: "%.2f", row.accuracy))")
        }
    }

    public func trialFinished(_ trial: Trial, _ summary: TrialSummary) {
        lock.withLock {
            progress[trial.id] = nil
            switch summary.status {
            case .completed:
                emit("✓ \(trial.id): test accuracy \(String(format: "%.3f", summary.testAccuracy ?? .nan)) after \(summary.steps) steps (\(Self.duration(summary.seconds)))")
            case .diverged:
                let cause = summary.nonFinite.map { $0 == "loss" ? "the loss" : "the \($0)" } ?? "the loss"
                emit("✗ \(trial.id): diverged at step \(summary.divergedAtStep ?? summary.steps): \(cause) is not finite (loss \(summary.finalLoss.map { "\($0)" } ?? "not finite"))")
            case .failed:
                emit("✗ \(trial.id): failed: \(summary.error ?? "unknown error")")
            case .interrupted:
                emit("■ \(trial.id): interrupted after step \(summary.steps), checkpoint written")
            case .running:
                break
            }
        }
    }

    /// The results table, in `TrialSummary.ranked` order (best test accuracy first).
    public func resultsTable(_ summaries: [TrialSummary], probes: [String], settingOrder: [String] = []) {
        say("\n" + Self.table(summaries, probes: probes, settingOrder: settingOrder))
    }

    /// The results table; setting columns in `settingOrder` (the sweep's axes), then any others by name.
    public static func table(_ summaries: [TrialSummary], probes: [String], settingOrder: [String] = []) -> String {
        let sorted = summaries.sorted(by: TrialSummary.ranked)
        let present = Set(summaries.flatMap { $0.settings.keys })
        let settingKeys = settingOrder.filter(present.contains) + present.subtracting(settingOrder).sorted()
        var header = ["trial"] + settingKeys + ["status", "steps", "test acc", "train acc"]
        for probe in probes { header += ["\(probe) mean", "\(probe) var"] }
        header.append("seconds")
        var rows = [header]
        for s in sorted {
            var row = [s.id] + settingKeys.map { s.settings[$0] ?? "" }
            row.append(s.status == .diverged ? "diverged@\(s.divergedAtStep ?? s.steps)" : s.status.rawValue)
            row += [String(s.steps), s.testAccuracy.map { String(format: "%.3f", $0) } ?? "—",
                    s.trainAccuracy.map { String(format: "%.2f", $0) } ?? "—"]
            for probe in probes {
                let a = s.activations[probe]
                row += [a.map { String(format: "%.3g", $0.mean) } ?? "—", a.map { String(format: "%.3g", $0.variance) } ?? "—"]
            }
            row.append(String(format: "%.1f", s.seconds))
            rows.append(row)
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.enumerated().map { index, row in
            let line = row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            return index == 0 ? line + "\n" + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ") : line
        }.joined(separator: "\n")
    }
}
