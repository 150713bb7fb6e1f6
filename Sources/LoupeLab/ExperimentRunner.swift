import Foundation
import LoupeCore
import LoupeData

/// Runs every trial of an experiment into an output folder: loads the data once, runs trials
/// `jobs` at a time (each trial's results are bit-identical whatever `jobs` is), records each in
/// the run store, and with `resume` skips finished trials and continues the others from their
/// last checkpoint. A trial that fails or diverges does not stop the others.
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
    /// The checks and data of `preflight`, done once.
    let preparation = ExperimentPreparation()

    public init(experiment: Experiment, output: URL, jobs: Int = 1, resume: Bool = false,
                console: Console = Console(), catalog: DatasetCatalog = DatasetCatalog(),
                kernels: KernelPolicy = .current, stopRequest: StopRequest? = nil) throws {
        guard jobs >= 1 else { throw LoupeError.invalidArgument(name: "--jobs", message: "must be at least 1, got \(jobs)") }
        self.experiment = experiment
        self.layout = ExperimentLayout(root: output)
        self.jobs = min(jobs, max(1, experiment.trials.count))
        self.resume = resume
        self.console = console
        self.catalog = catalog
        self.kernels = kernels
        self.stopRequest = stopRequest
    }

    /// Runs the experiment and returns every trial's summary, in the experiment's trial order.
    @discardableResult
    public func run() throws -> [TrialSummary] {
        // Everything that can be checked is checked before anything is written (`preflight`).
        let loaded = try preparedData()
        let trials = experiment.trials.map { $0.resolvingEpochs(loaded) }
        let record = EffectiveExperiment(experiment, kernels: kernels.effective)
        // A kill during a write of the experiment's own files (experiment.yaml, the HParams
        // events) leaves a temporary file; each trial's folder is cleaned when the trial resumes.
        if resume { AtomicFile.removeLeftovers(in: layout.root) }
        try FileManager.default.createDirectory(at: layout.trialsFolder, withIntermediateDirectories: true)
        try record.write(experiment, into: layout)
        let store = try RunStore(url: layout.store)
        let hparams = HParamsExperiment(experiment)
        try hparams.writeSummary(in: layout.root)

        console.experimentStarted(trials: experiment.trials.count, jobs: jobs)
        if jobs > 1 { console.say("Running \(experiment.trials.count) trials, \(jobs) at a time") }
        let results = ResultSlots(count: experiment.trials.count)
        let next = NextIndex()
        let group = DispatchGroup()
        let experimentName = experiment.name
        let datasets = loaded
        for _ in 0..<jobs {
            // On dispatch's own workers: trials on threads that exit (Foundation `Thread`) made
            // libdispatch free a continuation twice (AddressSanitizer, in the nested
            // concurrentPerform of the kernels), the heap corruption seen in test runs.
            DispatchQueue.global().async(group: group) { [self] in
                flushDenormals()
                while stopRequest?.isRequested != true, let index = next.take(below: experiment.trials.count) {
                    let trial = trials[index]
                    let warn: (String) -> Void = { [console] in console.say($0) }
                    let runIndex = RunIndexSink(store: store, experiment: experimentName, warn: warn)
                    let data = datasets["\(trial.config.data)"]!
                    let events = TensorBoardLog(layout: layout.trial(trial.id), hparams: hparams, warn: warn)
                    let hook = TensorBoardHook(log: events, config: trial.config.tensorboard, test: data.test)
                    results.set(index, runOne(trial, data: data, sinks: [console, runIndex, TensorBoardSink(log: events)], hooks: [hook]))
                }
            }
        }
        group.wait()
        let summaries = results.all()
        var order: [String] = []
        for trial in experiment.trials { for (key, _) in trial.settings where !order.contains(key) { order.append(key) } }
        console.resultsTable(summaries, probes: experiment.trials.first?.config.probes.activations ?? [], settingOrder: order)
        return summaries
    }

    func runOne(_ trial: Trial, data: TrialData, sinks: [any MetricSink], hooks: [any TrainerHook]) -> TrialSummary {
        let trialLayout = layout.trial(trial.id)
        do {
            return try TrialRunner(trial: trial, layout: trialLayout, data: data, sinks: sinks, hooks: hooks, kernels: kernels,
                                   stopRequest: stopRequest)
                .run(resume: resume)
        } catch {
            let summary = TrialSummary(id: trial.id, status: .failed, steps: 0, seconds: 0, parameters: 0,
                                       settings: trial.settingsDictionary, kernels: kernels.effective, error: "\(error)")
            try? summary.write(to: trialLayout.summary)
            for sink in sinks { sink.trialFinished(trial, summary) }
            return summary
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
    private var slots: [TrialSummary?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ summary: TrialSummary) { lock.withLock { slots[index] = summary } }
    func all() -> [TrialSummary] { lock.withLock { slots.compactMap { $0 } } }
}
