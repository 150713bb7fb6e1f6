import Foundation
import LoupeCore
@testable import LoupeLab
import Testing

/// A run the crash test kills: its experiment file and the numbers the kills are aimed by.
private struct CrashRun {
    var experiment: String
    var steps: Int
    var checkpointEvery: Int
    /// The steps of `evaluations.csv` (the final evaluation is the summary's, not a row).
    var evaluations: [Int]
    /// The longest delay, in ms, of a random kill after its step's row, of a kill in the final
    /// evaluation, and of a kill during start-up (a session launched past its step): shorter than
    /// what is left of a session, so the kill comes before its end (a resumed LSTM session can
    /// finish its last 25 steps and its evaluation in well under a second).
    var delays: (step: Int, finalEvaluation: Int, startup: Int)
    /// The last checkpoint before the end: a checkpoint kill must come before it.
    var lastCheckpoint: Int { (steps - 1) / checkpointEvery * checkpointEvery }

    /// The reference CNN on cifar10-gray28: 300 steps, a checkpoint every 50, evaluations every
    /// 75 (so one falls between checkpoints and one on the checkpoint of step 150), probes and
    /// the confusion matrix in the final evaluation.
    static let cnn = CrashRun(experiment: """
        name: crash
        data: {dataset: cifar10-gray28}
        model: {builder: lenet}
        train: {steps: 300, batch_size: 50, log_every: 5, eval_every: 75, checkpoint_every: 50, seed: 11}
        optimizer: {name: adam, lr: 1.0e-3}
        probes: {activations: [conv1, conv2], confusion: true}
        """, steps: 300, checkpointEvery: 50, evaluations: [75, 150, 225], delays: (60, 50, 1500))

    /// LSTM-128 and a dense layer to the 10 digits on mnist-png28 read as rows: 200 steps, a
    /// checkpoint every 25, evaluations every 30 (one on the checkpoint of step 150, the rest
    /// between checkpoints), TensorBoard histograms of the weights, gradients and the LSTM's
    /// output every 10 steps (so some are written between a checkpoint and a kill), probes and
    /// the confusion matrix in the final evaluation.
    static let lstm = CrashRun(experiment: """
        name: crash-lstm
        data: {dataset: mnist-png28, sequence: rows}
        model:
          layers:
            - {type: lstm, units: 128}
            - {type: dense, units: 10}
        train: {steps: 200, batch_size: 128, log_every: 5, eval_every: 30, checkpoint_every: 25, seed: 11}
        optimizer: {name: adam, lr: 1.0e-3}
        tensorboard: {histogram_every: 10, activations: [lstm1]}
        probes: {activations: [lstm1], confusion: true}
        """, steps: 200, checkpointEvery: 25, evaluations: [30, 60, 90, 120, 150, 180], delays: (5, 3, 200))
}

/// Where a kill is aimed.
private enum KillPoint: CustomStringConvertible {
    /// A random instant: `delay` seconds after the run has logged step `step`, or `startup`
    /// seconds after the launch when the session starts past that step (so such kills land
    /// during start-up: loading the data, restoring the checkpoint, opening the event file).
    case afterStep(Int, delay: Double, startup: Double)
    /// While a checkpoint is being written: as soon as its temporary file appears.
    case checkpointWrite
    /// During the final evaluation: `delay` seconds after the last step's row.
    case finalEvaluation(delay: Double)
    /// As soon as summary.json says completed: what the trial still does after that (if
    /// anything) must not be lost.
    case afterCompletion

    var description: String {
        switch self {
        case let .afterStep(step, delay, _): return "after step \(step) + \(Int(delay * 1000)) ms"
        case .checkpointWrite: return "during a checkpoint write"
        case let .finalEvaluation(delay): return "final evaluation + \(Int(delay * 1000)) ms"
        case .afterCompletion: return "as the summary says completed"
        }
    }
}

/// 20 kills from a seeded generator: 12 at random instants spread over the run's steps, 5 during
/// checkpoint writes shuffled among them, 2 in the final evaluation, and one the moment the
/// summary says the trial completed. A checkpoint kill comes only where a checkpoint is still
/// ahead: before any random kill past the last checkpoint.
private func killPlan(seed: UInt64, _ run: CrashRun) -> [KillPoint] {
    var generator = RandomGenerator(seed: seed, stream: 3)
    let steps = (0..<12).map { _ in generator.nextInt(below: run.steps - 5) }.sorted()
    var early: [KillPoint] = steps.map {
        .afterStep($0, delay: Double(generator.nextInt(below: run.delays.step)) / 1000, startup: Double(generator.nextInt(below: run.delays.startup)) / 1000)
    }
    var beforeLastCheckpoint = steps.filter { $0 < run.lastCheckpoint }.count
    for _ in 0..<5 {
        early.insert(.checkpointWrite, at: generator.nextInt(below: beforeLastCheckpoint + 1))
        beforeLastCheckpoint += 1
    }
    return early + (0..<2).map { _ in .finalEvaluation(delay: Double(generator.nextInt(below: run.delays.finalEvaluation)) / 1000) } + [.afterCompletion]
}

/// Steps of the rows in a metrics file being written (a last line cut short is skipped).
private func loggedSteps(_ url: URL) -> [Int] {
    guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").dropFirst().compactMap { line in
        line.split(separator: ",").count == 5 ? Int(line.split(separator: ",")[0]) : nil
    }
}

/// Every file under `folder` whose name marks it temporary (`.….tmp`).
private func temporaryFiles(under folder: URL) -> [String] {
    (FileManager.default.subpaths(atPath: folder.path) ?? []).filter {
        let name = ($0 as NSString).lastPathComponent
        return name.hasPrefix(".") && name.hasSuffix(".tmp")
    }
}

/// (tag, step, value) of every scalar in a trial's event files, HParams summaries left out
/// (their wall time is not a measurement); each event's wall time is left out too.
private func scalars(_ trial: TrialLayout) throws -> [String] {
    try TensorBoardLog.eventFiles(in: trial.root).flatMap { url in
        try EventFileReader(url: url).records.map { try EventSummary(record: $0, path: url.path) }
            .flatMap { event in event.scalars.filter { !$0.tag.hasPrefix("_hparams_/") }.map { "\($0.tag)@\(event.step)=\($0.value)" } }
    }
}

/// The histograms and images of a trial's event files (the hook's events), each as "tag@step"
/// and the event's bytes after its wall time (field 1, the first 9 bytes), so two runs compare
/// value by value and bucket by bucket.
private func histogramsAndImages(_ trial: TrialLayout) throws -> [String] {
    try TensorBoardLog.eventFiles(in: trial.root).flatMap { url in
        try EventFileReader(url: url).records.compactMap { record -> String? in
            let event = try EventSummary(record: record, path: url.path)
            guard event.scalars.isEmpty, event.checkpointStep == nil, event.fileVersion == nil,
                  !event.tags.contains(where: { $0.hasPrefix("_hparams_/") }) else { return nil }
            let bytes = record.dropFirst(9).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            return "\(event.tags.joined(separator: ","))@\(event.step)=\(bytes)"
        }
    }
}

/// Crash-exact resume: `run` killed with SIGKILL at 20 instants (random ones, during checkpoint
/// writes, during the final evaluation) by the built `loupe`, and resumed each time, ends with
/// the uninterrupted run's bits: the same weights file, every metrics row, evaluation and
/// TensorBoard scalar, histogram and image exactly once with the same values (`metrics.csv`'s
/// `seconds` column and the events' wall times are wall-clock, left out), and no temporary file.
private func killTwentyTimesAndResume(_ run: CrashRun, name: String) throws {
    guard let executable = loupeExecutable(), let root = testDataRoot() else { return }
    let last = run.steps - 1
    let clock = ContinuousClock(), began = clock.now
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("crash.yaml")
    try run.experiment.write(to: file, atomically: true, encoding: .utf8)
    let straight = folder.appendingPathComponent("straight"), killed = folder.appendingPathComponent("killed")
    let log = folder.appendingPathComponent("output.log")
    FileManager.default.createFile(atPath: log.path, contents: nil)
    let output = try FileHandle(forWritingTo: log)
    defer { try? output.close() }
    func launch(_ out: URL, resume: Bool) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["run", file.path, "--out", out.path, "--quiet"] + (resume ? ["--resume"] : [])
        var environment = ProcessInfo.processInfo.environment
        environment["LOUPE_DATA"] = root
        process.environment = environment
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }
    let reference = try launch(straight, resume: false)
    reference.waitUntilExit()
    try #require(reference.terminationStatus == 0, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    let straightSeconds = (clock.now - began).seconds
    let id = try #require(try ExperimentLayout(root: straight).trialIDs().first)
    let (a, b) = (ExperimentLayout(root: straight).trial(id), ExperimentLayout(root: killed).trial(id))

    var hits: [String] = [], sessions: [Double] = []
    for (index, point) in killPlan(seed: 2024, run).enumerated() {
        // A temporary checkpoint file or a last row an earlier session left is not this one's.
        func checkpointTemporaries() -> Set<String> {
            Set(((try? FileManager.default.contentsOfDirectory(atPath: b.root.path)) ?? []).filter { $0.hasPrefix(".checkpoint.safetensors.") })
        }
        let leftBefore = checkpointTemporaries()
        var rewritten = !loggedSteps(b.metrics).contains(last)
        let launched = clock.now
        let process = try launch(killed, resume: index > 0)
        let deadline = Date().addingTimeInterval(120)
        var delay = 0.0
        wait: while process.isRunning && Date() < deadline {
            switch point {
            case let .afterStep(step, d, startup):
                if loggedSteps(b.metrics).contains(where: { $0 >= step }) {
                    delay = clock.now - launched < .milliseconds(5) ? startup : d
                    break wait
                }
            case .checkpointWrite:
                if !checkpointTemporaries().subtracting(leftBefore).isEmpty { break wait }
            case let .finalEvaluation(d):
                let steps = loggedSteps(b.metrics)
                if !steps.contains(last) { rewritten = true }
                if rewritten && steps.contains(last) {
                    delay = d
                    break wait
                }
            case .afterCompletion:
                if (try? TrialSummary.read(b.summary))?.status == .completed { break wait }
            }
            Thread.sleep(forTimeInterval: 0.001)
        }
        #expect(Date() < deadline, "kill \(index + 1) (\(point)): the run never reached it in 120 s")
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        sessions.append((clock.now - launched).seconds)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        if case .afterCompletion = point {
            // Nothing may be left to do by then: a kill or the run's own end are both fine.
            if process.terminationReason == .uncaughtSignal { hits.append("after completion") }
            #expect(process.terminationReason == .uncaughtSignal || process.terminationStatus == 0)
            continue
        }
        try #require(process.terminationReason == .uncaughtSignal,
                     "kill \(index + 1) (\(point)) came too late: the run ended with status \(process.terminationStatus)")
        let summary = try? TrialSummary.read(b.summary)
        if !checkpointTemporaries().subtracting(leftBefore).isEmpty { hits.append("checkpoint write") }
        if loggedSteps(b.metrics).contains(last) && summary?.status != .completed { hits.append("final evaluation") }
        #expect(summary?.status != .completed, "kill \(index + 1) (\(point)) came after the trial completed")
    }
    // Each kind of instant was hit at least once, as the files the kills left show.
    #expect(hits.filter { $0 == "checkpoint write" }.count >= 1, "\(hits)")
    #expect(hits.filter { $0 == "final evaluation" }.count >= 1, "\(hits)")

    let final = try launch(killed, resume: true)
    final.waitUntilExit()
    try #require(final.terminationStatus == 0, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    print("crash-exact resume of \(name): uninterrupted run \(String(format: "%.1f", straightSeconds)) s, whole test \(String(format: "%.1f", (clock.now - began).seconds)) s (sessions killed after \(sessions.map { String(format: "%.1f", $0) }.joined(separator: ", ")) s); kills hit \(hits)")

    // The summary's measurements (its `seconds` is wall-clock and left out).
    let (straightSummary, killedSummary) = (try TrialSummary.read(a.summary), try TrialSummary.read(b.summary))
    #expect(killedSummary.status == .completed && killedSummary.steps == run.steps)
    #expect(killedSummary.testAccuracy == straightSummary.testAccuracy && killedSummary.trainAccuracy == straightSummary.trainAccuracy
            && killedSummary.finalLoss == straightSummary.finalLoss, "\(killedSummary) vs \(straightSummary)")
    #expect(killedSummary.activations == straightSummary.activations && killedSummary.confusion == straightSummary.confusion)
    #expect(try Data(contentsOf: b.weights) == Data(contentsOf: a.weights), "weights differ after 20 kills")
    // metrics.csv: every step once, same values; `seconds` is wall-clock and left out.
    let rows = { (url: URL) in try MetricRow.read(url).map { "\($0.step): \($0.loss) \($0.accuracy) \($0.learningRate)" } }
    let (straightRows, killedRows) = (try rows(a.metrics), try rows(b.metrics))
    #expect(killedRows == straightRows, "metrics.csv differs")
    #expect(Set(try MetricRow.read(b.metrics).map(\.step)).count == straightRows.count, "a step is logged twice")
    #expect(try EvaluationRow.read(b.evaluations) == EvaluationRow.read(a.evaluations), "evaluations.csv differs")
    #expect(try EvaluationRow.read(a.evaluations).map(\.step) == run.evaluations)
    // TensorBoard: one event file, every scalar at every step once, same values.
    #expect(TensorBoardLog.eventFiles(in: b.root).count == 1)
    let (straightScalars, killedScalars) = (try scalars(a), try scalars(b))
    #expect(killedScalars.sorted() == straightScalars.sorted(), "TensorBoard scalars differ")
    #expect(Set(killedScalars.map { $0.split(separator: "=")[0] }).count == killedScalars.count, "a scalar appears twice")
    let (straightHistograms, killedHistograms) = (try histogramsAndImages(a), try histogramsAndImages(b))
    let steps = { (events: [String]) in events.map { String($0.split(separator: "=")[0]) }.sorted() }
    #expect(steps(killedHistograms) == steps(straightHistograms), "histograms or images missing or twice")
    #expect(killedHistograms.sorted() == straightHistograms.sorted(), "histograms or images differ")
    // The run index holds the completed trial and the same rows (`seconds` left out).
    let store = try RunStore(url: ExperimentLayout(root: killed).store)
    #expect(try store.trials().map(\.summary.status) == [.completed])
    let indexed = { (store: RunStore) in try store.metrics(of: id).map { [Double($0.step), $0.loss, $0.accuracy, $0.learningRate] } }
    #expect(try indexed(store) == indexed(RunStore(url: ExperimentLayout(root: straight).store)), "the run index differs")
    // Nothing temporary is left, and a finished trial keeps no checkpoint.
    #expect(temporaryFiles(under: killed).isEmpty, "\(temporaryFiles(under: killed))")
    #expect(!FileManager.default.fileExists(atPath: b.checkpoint.path))
}

@Suite(.serialized) struct CrashResumeTests {
    @Test func theCNNKilledTwentyTimesEndsBitIdentical() throws {
        try killTwentyTimesAndResume(.cnn, name: "the CNN")
    }

    @Test func theLSTMKilledTwentyTimesEndsBitIdentical() throws {
        try killTwentyTimesAndResume(.lstm, name: "LSTM-128")
    }
}
