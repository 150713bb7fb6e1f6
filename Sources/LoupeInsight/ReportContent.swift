import Foundation
import LoupeCore
import LoupeData
import LoupeLab

/// Everything the report says, computed once and drawn twice (HTML and Markdown).
struct ReportContent: Sendable {
    var title: String
    /// Plain sentences: counts by status, the best trial, the flag threshold.
    var overview: [String]
    /// Flagged trials in table order, with their flags' text.
    var flagged: [(trialID: String, flags: [String])]
    var results: Table
    var seeds: Table
    /// Explains the reference columns, when the experiment file has `reference:`.
    var referenceNote: String?
    var lossChart: String
    var accuracyChart: String
    /// Per group of settings: mean over seeds with a band, smoothed (`GroupCurves`).
    var groupLossChart: String
    var groupAccuracyChart: String
    /// Test accuracy against each numeric swept setting, with its file name.
    var axisCharts: [(key: String, fileName: String, svg: String)]
    /// Settings against test accuracy, one line per trial (nil for a single trial or no sweep).
    var parallelCoordinates: String?
    /// Per group, summed over its seeds, with class names; the groups without a matrix.
    var confusions: [GroupConfusion]
    /// Their SVGs, in the same order (`confusionFile` names them).
    var confusionCharts: [String]
    var groupsWithoutConfusion: [String]
    /// Time per step and throughput per group, and ms/step over training.
    var speed: Table
    var speedChart: String
    var filterNote: String
    /// Per group: before training and after, each on its own and on a shared scale.
    var filters: [GroupFilters]
    /// Trials with no weights file, or none with a 4-D `*.weight`.
    var trialsWithoutFilters: [String]
    /// The effective experiment (`experiment.yaml`).
    var experimentText: String?
    /// Trials with an inspection (`inspect/inspect.json`).
    var inside: InsideTheNetwork
    /// What produced the results (`experiment.json`): file, command line, overrides, version,
    /// kernels, threads; empty for folders of older versions.
    var provenance: [(label: String, value: String)]
    /// The experiment file as given, when overrides changed it.
    var originalText: String?

    static let groupNote = "One line per group of settings that differ only in their seed: the mean over its seeds with a band from the lowest to the highest, each seed's curve smoothed first by an exponential moving average with weight \(GroupCurves.smoothing) (TensorBoard's default smoothing). Axes fit the data."
    static let lossFile = "loss.svg", accuracyFile = "accuracy.svg"
    static let groupLossFile = "groups-loss.svg", groupAccuracyFile = "groups-accuracy.svg"
    static func axisFile(_ key: String) -> String { "accuracy-by-" + key.map { $0.isLetter || $0.isNumber || $0 == "." ? String($0) : "_" }.joined() + ".svg" }
    static let parallelFile = "parallel-coordinates.svg", speedFile = "speed.svg"
    static func confusionFile(_ index: Int) -> String { "confusion-\(index + 1).svg" }
    static let confusionNote = "Rows: the true class; columns: the predicted class. Each cell counts the test images of the group's seeds together and is coloured by its share of the row (white 0, dark blue all of it); the diagonal, outlined, is each class's correct predictions. Needs probes.confusion: true in the experiment file (or see loupe eval)."
    static let speedNote = "Wall time per training step: each trial's training seconds (periodic evaluations and checkpoints included) over its steps, mean ± sd over the group's seeds; examples/s is the batch size over that time. The chart shows the time per step between logged rows, so warm-up and slow stretches show."
    static let parallelNote = "One line per trial from its settings (an axis each, values in order) to its final test accuracy, coloured by that accuracy (viridis: dark low, yellow high); lines of trials without one (diverged, failed) end at \"none\", dashed red. Settings that lead to the top of the last axis are the good ones."

    init(_ experiment: ExperimentResults, options: ReportOptions) throws {
        let trials = experiment.trials
        let flags = Flags.flags(for: trials, overfittingGap: options.overfittingGap)
        let groups = SeedGroup.groups(trials)
        let ordered = Tables.ordered(trials)
        title = experiment.record?.name ?? experiment.directory.lastPathComponent
        experimentText = experiment.experimentText
        provenance = []
        originalText = nil
        if let record = experiment.record {
            provenance = [("Experiment file", record.file), ("Command line", record.commandText),
                          ("Overrides", record.overrides.isEmpty ? "none" : record.overrides.map { "--set \($0)" }.joined(separator: " "))]
            provenance += record.notes.map { ("Note", $0) }
            provenance += [("Loupe version", record.loupeVersion), ("Kernels", record.kernels.description),
                           ("Threads per trial", String(record.threads)), ("Results folder", experiment.directory.path)]
            if !record.overrides.isEmpty { originalText = record.fileText }
        }
        results = Tables.results(trials, flags: flags)
        var references: [ReferenceResult] = []
        if let text = experiment.experimentText, let tree = try? ConfigNode.parse(yaml: text, file: "experiment.yaml") {
            references = try ReferenceResult.read(tree.value(at: "reference"))
        }
        seeds = Tables.seeds(groups, trials: trials, references: references)
        referenceNote = references.isEmpty ? nil
            : "Reference: the experiment file's reference: values (published results) beside Loupe's mean ± sd over seeds; Δ is Loupe's mean minus the reference, in units of the seeds' standard deviation (|Δ| above 2 is unlikely to be seed noise)."
        flagged = ordered.compactMap { trial in flags[trial.id].map { (trial.id, $0.map(\.text)) } }

        var counts: [String] = []
        for status in [TrialStatus.completed, .diverged, .failed, .interrupted, .running] {
            let count = trials.filter { $0.summary.status == status }.count
            if count > 0 { counts.append("\(count) \(status.rawValue)") }
        }
        overview = ["\(trials.count) trials (\(counts.joined(separator: ", "))) in \(groups.count) group\(groups.count == 1 ? "" : "s") of settings that differ only in their seed."]
        if let best = ordered.first, let accuracy = best.summary.testAccuracy {
            overview.append("Best test accuracy: \(NumberFormat.fraction(accuracy)) (trial \(best.id)).")
        }
        overview.append("Flags: diverged; overfitting when train accuracy (minibatch, last tenth of training) exceeds test accuracy by more than \(NumberFormat.fraction(options.overfittingGap)); identical when test accuracy, final loss, activation statistics and the logged loss curve all match another trial's exactly (a copy, not a measurement); did not learn when every test image gets the same prediction (needs the confusion probe); collapsed when a probed layer is 0 on every test image or the loss ends above \(NumberFormat.value(Flags.lossRiseFactor))× its first logged value; at chance when test accuracy is within three binomial standard deviations of 1 / classes; failed.")

        let charts = TrialCurves.charts(trials, groups: groups)
        lossChart = charts.loss.svg()
        accuracyChart = charts.accuracy.svg()
        let grouped = GroupCurves.charts(trials, groups: groups)
        groupLossChart = grouped.loss.svg()
        groupAccuracyChart = grouped.accuracy.svg()
        axisCharts = SweepAxisCharts.charts(trials, groups: groups).map { ($0.key, Self.axisFile($0.key), $0.chart.svg()) }

        let captionKeys = Tables.varyingKeys(trials)
        var captions: [String: String] = [:]
        for trial in trials {
            let settings = captionKeys.compactMap { key in trial.summary.settings[key].map { "\(key)=\($0)" } }.joined(separator: ", ")
            captions[trial.id] = (settings.isEmpty ? "" : "\(settings), ") + "test acc \(NumberFormat.fraction(trial.summary.testAccuracy))"
        }
        inside = InsideTheNetwork(directory: experiment.directory, trialIDs: ordered.map(\.id), captions: captions)

        parallelCoordinates = ParallelCoordinates.svg(trials)
        (confusions, groupsWithoutConfusion) = GroupConfusion.of(groups, trials: trials)
        confusionCharts = confusions.enumerated().map { $1.svg(identifier: "confusion-\($0 + 1)") }
        speed = SpeedFigures.table(groups, trials: trials)
        speedChart = SpeedFigures.chart(groups, trials: trials).svg()
        filterNote = "Per group, the first-layer filters before training (its first seed's, as initialised) and after, one tile per output channel, enlarged ×\(options.filterScale) by nearest neighbour. By default every filter is min–max normalised on its own (black its smallest weight, white its largest), so tiles compare in shape, not in size; \"one scale\" draws all of a group's filters, before and after, on one scale (mid gray 0, black and white ± the group's largest |weight|), so growth shows. One input channel is drawn in gray, three in colour (RGB), more as their mean."
        (filters, trialsWithoutFilters) = try GroupFilters.of(groups, trials: ordered, layout: ExperimentLayout(root: experiment.directory),
                                                             scale: options.filterScale)
    }
}
