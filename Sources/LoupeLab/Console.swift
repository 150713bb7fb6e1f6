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
    /// Trials in their final evaluation (their bar says so).
    private var evaluating = Set<String>()
    private let columns: @Sendable () -> Int
    private let clock = ContinuousClock()
    private let write: @Sendable (String) -> Void

    /// `write` receives each piece of output (standard output by default).
    /// `columns` gives the terminal's width, read at each draw (default: the terminal's, else
    /// `COLUMNS`, else 80).
    public init(quiet: Bool = false, interactive: Bool? = nil,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) },
                columns: @escaping @Sendable () -> Int = Console.terminalColumns) {
        self.quiet = quiet
        self.interactive = interactive ?? (isatty(STDOUT_FILENO) == 1)
        self.write = write
        self.columns = columns
    }

    /// The terminal's width in characters: TIOCGWINSZ on standard output, else `COLUMNS`, else 80.
    public static func terminalColumns() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? 80
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
        write("\r\u{1B}[2K" + Self.barLine(bars(), width: columns()))
    }

    /// One trial's progress: its id (when several run), bar, steps, speed, ETA, loss.
    struct Bar { var id: String; var fraction: Double; var steps: String; var speed: String; var loss: String }

    private func bars() -> [Bar] {
        progress.sorted { $0.key < $1.key }.map { id, p -> Bar in
            // `step` is the last step done (firstStep − 1 before the first).
            let done = p.step + 1 - p.firstStep
            let elapsed = (clock.now - p.started).seconds
            let rate = elapsed > 0 && done > 0 ? Double(done) / elapsed : 0
            let eta = rate > 0 ? Double(p.total - p.step - 1) / rate : 0
            let speed = evaluating.contains(id) ? "evaluating"
                : done > 0 ? "\(String(format: "%.1f", rate)) steps/s ETA \(Self.duration(eta))" : "starting"
            return Bar(id: progress.count > 1 ? id : "", fraction: p.total > 0 ? Double(p.step + 1) / Double(p.total) : 0,
                       steps: "\(p.step + 1)/\(p.total)", speed: speed, loss: p.loss.isNaN ? "—" : String(format: "%.3f", p.loss))
        }
    }

    /// The bars on one line of at most `width − 1` characters (a full line would wrap, and each
    /// redraw would then leave a stale line): full bars when they fit, else shorter ones, else
    /// as many short ones as fit and how many more run.
    static func barLine(_ bars: [Bar], width: Int) -> String {
        let limit = max(10, width - 1)
        func drawn(_ fraction: Double, _ cells: Int) -> String {
            let filled = max(0, min(cells, Int(fraction * Double(cells))))
            return String(repeating: "█", count: filled) + String(repeating: "·", count: cells - filled)
        }
        let full = bars.map { bar in
            (bar.id.isEmpty ? "" : String(bar.id.prefix(18)) + " ") + "\(drawn(bar.fraction, 20)) \(bar.steps) \(bar.speed) loss \(bar.loss)"
        }.joined(separator: " │ ")
        if full.count <= limit { return full }
        let short = bars.map { bar in
            let speed = bar.speed.split(separator: " ").suffix(2).joined(separator: " ")   // "ETA 1m05s", "evaluating"
            return (bar.id.isEmpty ? "" : String(bar.id.prefix(10)) + " ") + "\(drawn(bar.fraction, 8)) \(bar.steps) \(speed)"
        }
        var line = ""
        for (index, part) in short.enumerated() {
            let candidate = line.isEmpty ? part : line + " │ " + part
            let more = short.count - index - 1
            let tail = more > 0 ? " │ +\(more) more" : ""
            if candidate.count + tail.count > limit {
                // Not even the first fits: it is cut, and the count of the others kept.
                guard !line.isEmpty else {
                    let note = short.count > 1 ? " +\(short.count - 1) more" : ""
                    return String(part.prefix(max(0, limit - note.count))) + note
                }
                return String((line + " │ +\(short.count - index) more").prefix(limit))
            }
            line = candidate
        }
        return String(line.prefix(limit))
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
            emit("\(prefix)step \(row.step), loss \(String(format: "%.3f", row.loss)), train accuracy \(String(format: "%.2f", row.accuracy))"
                 + (interactive ? "" : timing(trial.id, step: row.step)))
        }
    }

    /// `  [12s elapsed, ETA 1m05s]` for lines that go to a file or a batch log, which have no bar.
    private func timing(_ id: String, step: Int) -> String {
        guard let p = progress[id] else { return "" }
        let elapsed = (clock.now - p.started).seconds, done = step + 1 - p.firstStep
        let eta = done > 0 && elapsed > 0 ? Double(p.total - step - 1) * elapsed / Double(done) : .nan
        return "  [\(Self.duration(elapsed)) elapsed, ETA \(done > 0 ? Self.duration(eta) : "—")]"
    }

    public func trialEvaluated(_ trial: Trial, _ evaluation: EvaluationRow) {
        guard !quiet else { return }
        lock.withLock {
            let prefix = prefixLines ? "  \(trial.id): " : ""
            var line = "\(prefix)evaluation at step \(evaluation.step): test accuracy \(String(format: "%.3f", evaluation.testAccuracy))"
            if let loss = evaluation.validationLoss, let accuracy = evaluation.validationAccuracy {
                line += String(format: ", validation loss %.3f, validation accuracy %.3f", loss, accuracy)
            }
            emit(line)
        }
    }

    public func trialEvaluating(_ trial: Trial) {
        lock.withLock {
            evaluating.insert(trial.id)
            if interactive { drawBars() } else if !quiet { emit("\(prefixLines ? "  \(trial.id): " : "")evaluating the final weights on the test split") }
        }
    }

    public func trialFinished(_ trial: Trial, _ summary: TrialSummary) {
        lock.withLock {
            progress[trial.id] = nil
            evaluating.remove(trial.id)
            switch summary.status {
            case .completed:
                var line = "✓ \(trial.id): test accuracy \(String(format: "%.3f", summary.testAccuracy ?? .nan)) after \(summary.steps) steps (\(Self.duration(summary.seconds)))"
                if let accuracy = summary.validationAccuracy { line += String(format: ", validation accuracy %.3f", accuracy) }
                if let stopped = summary.stoppedEarlyAt { line += ", stopped early at step \(stopped)" }
                if let best = summary.bestStep { line += ", best validation at step \(best)" }
                emit(line)
            case .diverged:
                let cause = summary.nonFinite.map { $0 == "loss" ? "the loss" : "the \($0)" } ?? "the loss"
                emit("✗ \(trial.id): diverged at step \(summary.divergedAtStep ?? summary.steps): \(cause) is not finite (loss \(summary.finalLoss.map { "\($0)" } ?? "not finite"))")
            case .failed:
                emit("✗ \(trial.id): failed: \(summary.error ?? "unknown error")")
            case .interrupted:
                emit("■ \(trial.id): stopped after step \(summary.steps); its checkpoint is written and --resume continues from there")
            case .running:
                break
            }
        }
    }

    /// The results table, in `TrialSummary.ranked` order (best test accuracy first), fitted to
    /// the terminal's width when the output is one.
    public func resultsTable(_ summaries: [TrialSummary], probes: [String], settingOrder: [String] = [], results: String = "DIR") {
        let width = interactive ? columns() : nil
        say("\n" + Self.table(summaries, probes: probes, settingOrder: settingOrder, results: results).render(width: width))
    }

    /// The results table; setting columns in `settingOrder` (the sweep's axes), then any others
    /// by name. `results` is the folder, for the hint that shows left-out columns.
    public static func table(_ summaries: [TrialSummary], probes: [String], settingOrder: [String] = [], results: String = "DIR") -> TextTable {
        let sorted = summaries.sorted(by: TrialSummary.ranked)
        let present = Set(summaries.flatMap { $0.settings.keys })
        let settingKeys = settingOrder.filter(present.contains) + present.subtracting(settingOrder).sorted()
        var header = ["trial"] + settingKeys + ["status", "steps", "test acc", "train acc"]
        for probe in probes { header += ["\(probe) mean", "\(probe) var"] }
        header.append("seconds")
        var rows: [[String]] = []
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
        let numbers = Set(header.indices.dropFirst(1 + settingKeys.count + 1))
        return TextTable(header: header, rows: rows, rightAligned: numbers,
                         hint: "loupe runs \(results) --csv has every column, loupe report \(results) the full page")
    }
}
