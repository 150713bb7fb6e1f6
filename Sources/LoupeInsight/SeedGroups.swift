import Foundation
import LoupeLab

/// Mean and sample standard deviation (divisor n − 1, as NumPy's `std(ddof=1)`) of a few values.
public struct Spread: Sendable, Equatable {
    public var mean: Double
    /// nil for a single value, which has no spread.
    public var standardDeviation: Double?
    public var count: Int

    /// nil when `values` is empty.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        count = values.count
        mean = values.reduce(0, +) / Double(count)
        // Equal values spread by exactly 0, not by the rounding of their sum.
        if values.allSatisfy({ $0 == values[0] }) { mean = values[0] }
        if count > 1 {
            let mean = self.mean
            let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            standardDeviation = (squares / Double(count - 1)).squareRoot()
        }
    }
}

/// Trials that differ only in their seed, and how much their results spread.
struct SeedGroup: Sendable {
    /// The setting that names a trial's seed; every other setting defines the group.
    static let seedKey = "train.seed"

    /// The group's settings (all but the seed), by key.
    var settings: [String: String]
    /// In trial-id order.
    var trialIDs: [String]
    var seeds: [String]
    /// Trials without a test accuracy (diverged, failed or still running): not in the statistics.
    var unevaluated: Int
    var testAccuracy: Spread?
    /// By layer: the spread of the activation mean and of the activation variance.
    var activations: [String: (mean: Spread, variance: Spread)]

    /// Groups `trials` by their settings without the seed; best mean test accuracy first.
    static func groups(_ trials: [TrialResult]) -> [SeedGroup] {
        var members: [[String: String]: [TrialResult]] = [:]
        for trial in trials {
            var key = trial.summary.settings
            key[seedKey] = nil
            members[key, default: []].append(trial)
        }
        let groups = members.map { settings, trials in SeedGroup(settings: settings, trials: trials.sorted { $0.id < $1.id }) }
        return groups.sorted {
            ($0.testAccuracy?.mean ?? -.infinity, $1.trialIDs.first ?? "") > ($1.testAccuracy?.mean ?? -.infinity, $0.trialIDs.first ?? "")
        }
    }

    init(settings: [String: String], trials: [TrialResult]) {
        self.settings = settings
        trialIDs = trials.map(\.id)
        seeds = trials.compactMap { $0.summary.settings[Self.seedKey] }
        let evaluated = trials.map(\.summary).filter { $0.testAccuracy != nil }
        unevaluated = trials.count - evaluated.count
        testAccuracy = Spread(evaluated.compactMap(\.testAccuracy))
        var activations: [String: (Spread, Spread)] = [:]
        for layer in Set(evaluated.flatMap(\.activations.keys)) {
            let statistics = evaluated.compactMap { $0.activations[layer] }
            if let mean = Spread(statistics.map(\.mean)), let variance = Spread(statistics.map(\.variance)) {
                activations[layer] = (mean, variance)
            }
        }
        self.activations = activations
    }
}
