import Foundation
import LoupeCore
import LoupeData

/// Runs the trials of an experiment into an output folder: loads the data once, runs trials
/// `jobs` at a time (each trial's results are bit-identical whatever `jobs` is), and with
/// `resume` skips finished trials and continues the others from their last checkpoint. A trial
/// that fails or diverges does not stop the others.
///
/// With a `selection` (`--trial`, `--shard`, an array task's index) it runs only those trials,
/// as a resume: a finished one is left as it is, a half-run one continues from its checkpoint,
/// so a requeued task picks up where it stopped. Many such processes may share one results
/// folder: each trial is written only inside its own folder, under its `TrialLock`; the
/// folder-level files are the same for every process (`experiment.yaml`, written atomically) or
/// written once (`experiment.json`, the HParams experiment); no process writes the run index,
/// which is rebuilt from the trial folders (`RunStore.rebuild`) by a whole run when it ends,
/// `loupe report`, `loupe merge` and `loupe sweep status`.
public final class ExperimentRunner: Sendable {
    public let experiment: Experiment
    public let layout: ExperimentLayout
    public let jobs: Int
    public let resume: Bool
    let console: Console
    let catalog: DatasetCatalog
    /// The kernels every trial runs on (read when the runner is made: trials run on other threads).
    public let kernels: KernelPolicy
    /// When requested, running trials stop after their current step (with a checkpoint) and no
    /// new trial starts.
    public let stopRequest: StopRequest?
    /// Hooks for trials whose file has `inspect:`, beside the snapshots: `loupe run` passes
    /// LoupeInsight's, which draws the figures when the trial has trained.
    let endHooks: @Sendable (Trial, TrialData) -> [any TrainerHook]
    /// The indices of the trials this runner runs, in increasing order.
    public let indices: [Int]
    /// Whether it runs a part of the experiment (other processes may run the rest).
    public let isSelection: Bool
    /// The checks and data of `preflight`, done once.
    let preparation = ExperimentPreparation()

    public init(experiment: Experiment, output: URL, jobs: Int = 1, resume: Bool = false,
                console: Console = Console(), catalog: DatasetCatalog = DatasetCatalog(),
                kernels: KernelPolicy = .current, stopRequest: StopRequest? = nil,
                selection: TrialSelection = .all,
                inspectionHooks: @escaping @Sendable (Trial, TrialData) -> [any TrainerHook] = { _, _ in [] }) throws {
        guard jobs >= 1 else { throw LoupeError.invalidArgument(name: "--jobs", message: "must be at least 1, got \(jobs)") }
        self.experiment = experiment
        self.layout = ExperimentLayout(root: output)
        self.indices = try selection.resolve(count: experiment.trials.count)
        self.isSelection = selection != .all
        self.jobs = min(jobs, max(1, indices.count))
        self.resume = resume || isSelection
        self.console = console
        self.catalog = catalog
        self.kernels = kernels
        self.stopRequest = stopRequest
        self.endHooks = inspectionHooks
    }

    /// Runs the experiment and returns every trial's summary, in the experiment's trial order.
    @discardableResult
    public func run() throws -> [TrialSummary] { try runTrials().map(\.summary) }

    /// Runs the selected trials and returns how each ended (its summary, and the error when it
    /// failed), in index order.
    public func runTrials() throws -> [TrialOutcome] {
        // Everything that can be checked is checked before anything is written (`preflight`).
        let loaded = try preparedData()
        let trials = indices.map { experiment.trials[$0].resolvingEpochs(loaded) }
        let record = EffectiveExperiment(experiment, kernels: kernels.effective)
        // A kill during a write of the experiment's own files (experiment.yaml, the HParams
        // events) leaves a temporary file; each trial's folder is cleaned when the trial resumes.
        // Not while other processes may be writing those files (their temporary files are theirs).
        if resume && !isSelection { AtomicFile.removeLeftovers(in: layout.root) }
        try FileManager.default.createDirectory(at: layout.trialsFolder, withIntermediateDirectories: true)
        let hparams = HParamsExperiment(experiment)
        if isSelection {
            // Array tasks: the same experiment.yaml from each (written when it differs), the
            // HParams experiment once, never another's file removed but a killed writer's.
            // The record of the first task stays: the others' differ only in their command line
            // (their --trial), which the resume check leaves out.
            SharedFolderFile.removeLeftoversOfDeadWriters(in: layout.root)
            let text = Data(record.effectiveYAML(experiment).utf8)
            if (try? Data(contentsOf: layout.experimentFile)) != text { try SharedFolderFile.write(text, to: layout.experimentFile) }
            if !FileManager.default.fileExists(atPath: layout.effectiveExperimentFile.path) {
                try SharedFolderFile.write(try record.encoded(), to: layout.effectiveExperimentFile)
            }
            if TensorBoardLog.eventFiles(in: layout.root).isEmpty { try hparams.writeSummary(in: layout.root, replacing: false, write: SharedFolderFile.write) }
        } else {
            try record.write(experiment, into: layout)
            try hparams.writeSummary(in: layout.root)
        }

        console.experimentStarted(trials: trials.count, jobs: jobs)
        if jobs > 1 { console.say("Running \(trials.count) trials, \(jobs) at a time") }
        let results = ResultSlots(count: trials.count)
        let next = NextIndex()
        let group = DispatchGroup()
        let datasets = loaded
        for _ in 0..<jobs {
            // On dispatch's own workers: trials on threads that exit (Foundation `Thread`) made
            // libdispatch free a continuation twice (AddressSanitizer, in the nested
            // concurrentPerform of the kernels), the heap corruption seen in test runs.
            DispatchQueue.global().async(group: group) { [self] in
                flushDenormals()
                while stopRequest?.isRequested != true, let slot = next.take(below: trials.count) {
                    let trial = trials[slot]
                    let warn: (String) -> Void = { [console] in console.say($0) }
                    let data = datasets["\(trial.config.data)"]!
                    let events = TensorBoardLog(layout: layout.trial(trial.id), hparams: hparams, warn: warn)
                    var hooks: [any TrainerHook] = [TensorBoardHook(log: events, config: trial.config.tensorboard, test: data.test)]
                    if let inspect = trial.config.inspect {
                        hooks.append(SnapshotHook(steps: inspect.snapshots))
                        hooks += endHooks(trial, data)
                    }
                    results.set(slot, runOne(trial, data: data, sinks: [console, TensorBoardSink(log: events)], hooks: hooks))
                }
            }
        }
        group.wait()
        let outcomes = results.all()
        var order: [String] = []
        for trial in trials { for (key, _) in trial.settings where !order.contains(key) { order.append(key) } }
        console.resultsTable(outcomes.map(\.summary), probes: trials.first?.config.probes.activations ?? [], settingOrder: order,
                             results: layout.root.relativePath)
        // One process ran every trial: it alone writes the index, rebuilt from the trial folders.
        if !isSelection {
            do { try RunStore.rebuild(layout) } catch { console.say("warning: the run index was not rebuilt: \(error); loupe report rebuilds it") }
        }
        return outcomes
    }

    func runOne(_ trial: Trial, data: TrialData, sinks: [any MetricSink], hooks: [any TrainerHook]) -> TrialOutcome {
        let trialLayout = layout.trial(trial.id)
        func failed(_ error: any Error) -> TrialSummary {
            var summary = TrialSummary(id: trial.id, status: .failed, steps: 0, seconds: 0, parameters: 0,
                                       settings: trial.settingsDictionary, kernels: kernels.effective, error: "\(error)")
            summary.index = trial.index
            return summary
        }
        // The lock is held until the folder's last write, a failed trial's summary included.
        let lock: TrialLock
        do { lock = try TrialLock(id: trial.id, layout: layout) } catch {
            // Its folder is another process's (or the lock cannot be made): nothing is written,
            // the sinks hear nothing.
            console.say("\(trial.id): \(error)")
            return TrialOutcome(summary: failed(error), error: error)
        }
        defer { withExtendedLifetime(lock) {} }
        do {
            let summary = try TrialRunner(trial: trial, layout: trialLayout, data: data, sinks: sinks, hooks: hooks, kernels: kernels,
                                          stopRequest: stopRequest)
                .run(resume: resume)
            return TrialOutcome(summary: summary, error: nil)
        } catch {
            let summary = failed(error)
            try? summary.write(to: trialLayout.summary)
            for sink in sinks { sink.trialFinished(trial, summary) }
            return TrialOutcome(summary: summary, error: error)
        }
    }
}

/// Hands out trial indices to worker threads.
private final class NextIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take(below count: Int) -> Int? {
        lock.withLock {
            guard value < count else { return nil }
            defer { value += 1 }
            return value
        }
    }
}

/// Results by trial index, filled by worker threads.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [TrialOutcome?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ outcome: TrialOutcome) { lock.withLock { slots[index] = outcome } }
    func all() -> [TrialOutcome] { lock.withLock { slots.compactMap { $0 } } }
}
