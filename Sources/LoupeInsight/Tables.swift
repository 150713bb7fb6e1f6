import Foundation
import LoupeLab

/// A table as both renderers draw it: text cells, the columns that hold numbers (right-aligned)
/// or flags, and rows that carry a flag (highlighted).
struct Table: Sendable {
    struct Column: Sendable {
        enum Kind: Sendable { case text, number, flags }
        var title: String
        var kind = Kind.text
    }

    struct Row: Sendable {
        var cells: [String]
        var flagged = false
        /// The trial this row shows, for links to its filter figure.
        var trialID: String?
    }

    var columns: [Column]
    var rows: [Row]
}

/// The report's two tables: one row per trial, and one row per group of seeds.
enum Tables {
    /// In the order every table uses (`TrialSummary.ranked`), ties by folder name.
    static func ordered(_ trials: [TrialResult]) -> [TrialResult] {
        trials.sorted {
            if $0.summary.id == $1.summary.id { return $0.id < $1.id }
            return TrialSummary.ranked($0.summary, before: $1.summary)
        }
    }

    /// The setting keys whose values differ between trials (all keys when none differ), sorted.
    static func varyingKeys(_ trials: [TrialResult]) -> [String] {
        let keys = Set(trials.flatMap(\.summary.settings.keys)).sorted()
        let varying = keys.filter { key in Set(trials.map { $0.summary.settings[key] ?? "" }).count > 1 }
        return varying.isEmpty ? keys : varying
    }

    /// The varying keys but the seed: what tells groups of seeds apart, in their labels and columns.
    static func groupKeys(_ trials: [TrialResult]) -> [String] { varyingKeys(trials).filter { $0 != SeedGroup.seedKey } }

    /// The probed layers, in natural order (`conv2` before `conv10`).
    static func probedLayers(_ trials: [TrialResult]) -> [String] {
        Set(trials.flatMap(\.summary.activations.keys)).sorted { $0.compare($1, options: .numeric) == .orderedAscending }
    }

    static func status(_ summary: TrialSummary) -> String {
        switch summary.status {
        case .diverged: return "diverged at step \(summary.divergedAtStep ?? summary.steps)"
        default: return summary.status.rawValue
        }
    }

    static func results(_ trials: [TrialResult], flags: [String: [TrialFlag]]) -> Table {
        let keys = varyingKeys(trials), layers = probedLayers(trials)
        var columns = [Table.Column(title: "trial")] + keys.map { Table.Column(title: $0) }
        // Flags right after the accuracies, so they are on screen without scrolling.
        columns += [.init(title: "status"), .init(title: "steps", kind: .number),
                    .init(title: "test acc", kind: .number), .init(title: "train acc", kind: .number), .init(title: "flags", kind: .flags)]
        for layer in layers {
            columns += [.init(title: "\(layer) act. mean", kind: .number), .init(title: "\(layer) act. var", kind: .number)]
        }
        columns += [.init(title: "params", kind: .number), .init(title: "ms/step", kind: .number),
                    .init(title: "seconds", kind: .number)]
        let sorted = ordered(trials)
        // Each activation column in one number format.
        let statistics = layers.flatMap { layer in
            [NumberFormat.column(sorted.map { $0.summary.activations[layer]?.mean }),
             NumberFormat.column(sorted.map { $0.summary.activations[layer]?.variance })]
        }
        let rows = sorted.enumerated().map { index, trial in
            let summary = trial.summary, trialFlags = flags[trial.id] ?? []
            var cells = [trial.id] + keys.map { summary.settings[$0] ?? NumberFormat.missing }
            cells += [status(summary), String(summary.steps),
                      NumberFormat.fraction(summary.testAccuracy), NumberFormat.fraction(summary.trainAccuracy),
                      trialFlags.map(\.text).joined(separator: "; ")]
            cells += statistics.map { $0[index] }
            cells += [String(summary.parameters), NumberFormat.milliseconds(summary.millisecondsPerStep()),
                      NumberFormat.seconds(summary.seconds)]
            return Table.Row(cells: cells, flagged: !trialFlags.isEmpty, trialID: trial.id)
        }
        return Table(columns: columns, rows: rows)
    }

    /// One row per group of trials that differ only in their seed: mean ± sample standard
    /// deviation over the evaluated seeds, and n.
    static func seeds(_ groups: [SeedGroup], trials: [TrialResult], references: [ReferenceResult] = []) -> Table {
        let keys = groupKeys(trials), layers = probedLayers(trials)
        var columns = keys.map { Table.Column(title: $0) }
        columns += [.init(title: "seeds"), .init(title: "n", kind: .number), .init(title: "test acc", kind: .number)]
        if !references.isEmpty { columns += [.init(title: "reference", kind: .number), .init(title: "Δ (seed sd)", kind: .number)] }
        for layer in layers {
            columns += [.init(title: "\(layer) act. mean", kind: .number), .init(title: "\(layer) act. var", kind: .number)]
        }
        columns += [.init(title: "params", kind: .number), .init(title: "ms/step", kind: .number),
                    .init(title: "not evaluated", kind: .number)]
        let byID = Dictionary(trials.map { ($0.id, $0.summary) }, uniquingKeysWith: { a, _ in a })
        // Each activation column in one number format; "(n=2)" when fewer trials than the
        // group's test accuracy counted.
        let statistics = layers.flatMap { layer in
            [\.mean, \.variance].map { (part: KeyPath<(mean: Spread, variance: Spread), Spread>) in
                let spreads = groups.map { $0.activations[layer]?[keyPath: part] }
                return zip(NumberFormat.spreadColumn(spreads.map { $0.map { ($0.mean, $0.standardDeviation) } }), zip(spreads, groups)).map { text, pair in
                    guard let spread = pair.0, let n = pair.1.testAccuracy?.count, n != spread.count else { return text }
                    return "\(text) (n=\(spread.count))"
                }
            }
        }
        let rows = groups.enumerated().map { index, group in
            var cells = keys.map { group.settings[$0] ?? NumberFormat.missing }
            cells += [group.seeds.isEmpty ? NumberFormat.missing : group.seeds.joined(separator: ", "),
                      String(group.testAccuracy?.count ?? 0), spread(group.testAccuracy)]
            if !references.isEmpty { cells += comparison(group, references) }
            cells += statistics.map { $0[index] }
            let members = group.trialIDs.compactMap { byID[$0] }
            let times = members.compactMap { $0.millisecondsPerStep() }
            cells += [members.first.map { String($0.parameters) } ?? NumberFormat.missing,
                      NumberFormat.milliseconds(times.isEmpty ? nil : times.reduce(0, +) / Double(times.count)),
                      String(group.unevaluated)]
            return Table.Row(cells: cells, flagged: group.unevaluated > 0)
        }
        return Table(columns: columns, rows: rows)
    }

    /// The published value matching the group, and Loupe's mean minus it in units of the
    /// group's seed standard deviation (the plain difference when there is no spread).
    static func comparison(_ group: SeedGroup, _ references: [ReferenceResult]) -> [String] {
        guard let reference = references.first(where: { $0.matches(group.settings) }) else { return [NumberFormat.missing, NumberFormat.missing] }
        let shown = NumberFormat.fraction(reference.testAccuracy) + (reference.source.map { " (\($0))" } ?? "")
        guard let accuracy = group.testAccuracy else { return [shown, NumberFormat.missing] }
        let difference = accuracy.mean - reference.testAccuracy
        guard let sd = accuracy.standardDeviation, sd > 0 else {
            return [shown, String(format: "%+.3f (no spread)", difference)]
        }
        return [shown, String(format: "%+.1f", difference / sd)]
    }

    /// A test accuracy as `0.420 ± 0.020` over the seeds.
    static func spread(_ spread: Spread?) -> String {
        spread.map { NumberFormat.meanAndSpread($0.mean, $0.standardDeviation, asFraction: true) } ?? NumberFormat.missing
    }
}
