import Foundation
import LoupeLab

/// Something about a trial a reader should not miss.
public enum TrialFlag: Sendable, Equatable {
    /// The loss became NaN or infinite at `step`.
    case diverged(step: Int)
    /// Minibatch train accuracy exceeds test accuracy by more than the report's threshold.
    case overfitting(train: Double, test: Double)
    /// Test accuracy, final loss, activation statistics and the whole logged loss curve are bit
    /// for bit those of `others`: two trials do not measure that alike, so one is a copy.
    case identical(to: [String])
    /// The trial stopped with an error.
    case failed(message: String)
    /// Every test image got the same prediction: the network learned nothing (dead ReLUs after a
    /// too-large step look like this without the loss ever becoming NaN).
    case singleClass(predicted: Int, classes: Int)
    /// A probed layer's every activation is 0 on every test image (mean and variance both 0):
    /// nothing passes it, so the layers after it see a constant.
    case deadLayer(String)
    /// The loss at the end (mean of the last tenth of logged rows) is more than
    /// `Flags.lossRiseFactor` times the first logged loss, without ever becoming NaN.
    case lossRose(start: Double, end: Double)
    /// Test accuracy is within three binomial standard deviations of guessing (1 / classes).
    case atChance(accuracy: Double, classes: Int)

    /// A short label: `diverged at step 120`, `overfitting: gap 0.550 (train 0.970, test 0.420)`.
    public var text: String {
        switch self {
        case let .diverged(step): return "diverged at step \(step)"
        case let .overfitting(train, test):
            return "overfitting: gap \(NumberFormat.fraction(train - test)) (train \(NumberFormat.fraction(train)), test \(NumberFormat.fraction(test)))"
        case let .identical(others): return "identical to \(others.joined(separator: ", ")) (likely a copy)"
        case let .failed(message): return "failed: \(message)"
        case let .singleClass(predicted, classes): return "did not learn: predicts class \(predicted) of \(classes) for every test image"
        case let .deadLayer(layer): return "collapsed: \(layer) is dead (every activation 0 on every test image)"
        case let .lossRose(start, end):
            return "collapsed: loss \(NumberFormat.value(end)) at the end, far above its start \(NumberFormat.value(start))"
        case let .atChance(accuracy, classes):
            return "at chance: test accuracy \(NumberFormat.fraction(accuracy)) with \(classes) classes (guessing gives \(NumberFormat.fraction(1 / Double(classes))))"
        }
    }

    /// The flags of one trial on its own (every flag but `identical`, which compares trials):
    /// what `loupe runs` shows.
    public static func flags(summary: TrialSummary, metrics: [MetricRow], overfittingGap: Double = 0.25) -> [TrialFlag] {
        Flags.own(summary, metrics: metrics, overfittingGap: overfittingGap)
    }
}

enum Flags {
    /// A final loss above this multiple of the first logged loss is flagged as collapse.
    static let lossRiseFactor = 2.0

    /// Flags for every trial, by trial id (trials with no flag are absent).
    /// `overfittingGap`: the train − test accuracy difference above which a trial is flagged.
    static func flags(for trials: [TrialResult], overfittingGap: Double) -> [String: [TrialFlag]] {
        var flags: [String: [TrialFlag]] = [:]
        let copies = identicalGroups(trials)
        for trial in trials {
            var list = own(trial.summary, metrics: trial.metrics, overfittingGap: overfittingGap)
            if let group = copies[trial.id] { list.insert(.identical(to: group.filter { $0 != trial.id }), at: min(list.count, ownBeforeIdentical(list))) }
            if !list.isEmpty { flags[trial.id] = list }
        }
        return flags
    }

    /// Where `identical` goes among a trial's own flags: after diverged, failed and overfitting.
    static func ownBeforeIdentical(_ list: [TrialFlag]) -> Int {
        list.prefix { flag in
            switch flag {
            case .diverged, .failed, .overfitting: return true
            default: return false
            }
        }.count
    }

    static func own(_ summary: TrialSummary, metrics: [MetricRow], overfittingGap: Double) -> [TrialFlag] {
        var list: [TrialFlag] = []
        if summary.status == .diverged { list.append(.diverged(step: summary.divergedAtStep ?? summary.steps)) }
        if summary.status == .failed { list.append(.failed(message: summary.error ?? "no message")) }
        if let train = summary.trainAccuracy, let test = summary.testAccuracy, train - test > overfittingGap {
            list.append(.overfitting(train: train, test: test))
        }
        var singleClass = false
        if let confusion = summary.confusion, confusion.count > 1 {
            // Columns are predictions: only one column holds any image.
            let used = (0..<confusion.count).filter { column in confusion.contains { $0.indices.contains(column) && $0[column] > 0 } }
            if used.count == 1 {
                list.append(.singleClass(predicted: used[0], classes: confusion.count))
                singleClass = true
            }
        }
        for layer in summary.activations.keys.sorted(by: { $0.compare($1, options: .numeric) == .orderedAscending }) {
            if let statistics = summary.activations[layer], statistics.mean == 0, statistics.variance == 0 { list.append(.deadLayer(layer)) }
        }
        if summary.status != .diverged, let start = metrics.first?.loss, start.isFinite, start > 0 {
            let tail = metrics.suffix(max(1, metrics.count / 10)).map(\.loss)
            let end = tail.reduce(0, +) / Double(tail.count)
            if !end.isFinite || end > lossRiseFactor * start { list.append(.lossRose(start: start, end: end)) }
        }
        // One class for every image is already at chance, and says more.
        let classes = summary.classes ?? summary.confusion?.count
        let images = summary.testImages ?? summary.confusion.map { $0.joined().reduce(0, +) }
        if !singleClass, let accuracy = summary.testAccuracy, let classes, classes > 1, let images, images > 0 {
            let chance = 1 / Double(classes)
            if accuracy <= chance + 3 * (chance * (1 - chance) / Double(images)).squareRoot() {
                list.append(.atChance(accuracy: accuracy, classes: classes))
            }
        }
        return list
    }

    /// For each trial that has an identical twin, the ids of its whole group (sorted).
    /// Only evaluated trials (with a test accuracy) are compared: two failed trials share their
    /// emptiness, not a measurement.
    static func identicalGroups(_ trials: [TrialResult]) -> [String: [String]] {
        var groups: [Fingerprint: [String]] = [:]
        for trial in trials where trial.summary.testAccuracy != nil {
            groups[Fingerprint(trial), default: []].append(trial.id)
        }
        var result: [String: [String]] = [:]
        for ids in groups.values where ids.count > 1 {
            for id in ids { result[id] = ids.sorted() }
        }
        return result
    }

    /// The measurements two trials share exactly when one is a copy of the other, compared by
    /// bit pattern (so NaN equals NaN).
    struct Fingerprint: Hashable {
        var testAccuracy: UInt64?
        var finalLoss: UInt64?
        var activations: [String: [UInt64]]
        var losses: [UInt64]

        init(_ trial: TrialResult) {
            testAccuracy = trial.summary.testAccuracy?.bitPattern
            finalLoss = trial.summary.finalLoss?.bitPattern
            activations = trial.summary.activations.mapValues { [$0.mean.bitPattern, $0.variance.bitPattern] }
            losses = trial.metrics.map { $0.loss.bitPattern }
        }
    }
}
