import Foundation
import LoupeCore

/// One trial as `loupe runs` lists it: read from its folder (so running and interrupted trials
/// appear, with the last step they logged), with the results folder it came from.
public struct ListedTrial: Sendable {
    /// The results folder, as given or found under `runs/`.
    public var folder: String
    public var summary: TrialSummary
    /// Steps done by the last row of `metrics.csv` (whose `step` counts from 0), or the
    /// summary's, whichever is later: a running trial's summary still says the step it started at.
    public var lastStep: Int
    /// The trial's flags' text (filled by the caller, which knows the report's flags).
    public var flags: [String] = []

    /// Every trial folder of the results folder `folder`, by name. Throws naming the folder
    /// when it is not a results folder, or the file at fault when a summary cannot be read.
    public static func read(folder: String) throws -> [(trial: ListedTrial, metrics: [MetricRow])] {
        let layout = ExperimentLayout(root: URL(fileURLWithPath: folder))
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw LoupeError.file(path: folder, message: "is not a folder")
        }
        guard FileManager.default.fileExists(atPath: layout.trialsFolder.path) else {
            throw LoupeError.file(path: folder, message: "is not a results folder of loupe run (it has no trials/ folder)")
        }
        return try layout.trialIDs().compactMap { id in
            let trial = layout.trial(id)
            // A trial that has not written its summary yet has nothing to list.
            guard FileManager.default.fileExists(atPath: trial.summary.path) else { return nil }
            let summary = try TrialSummary.read(trial.summary)
            let metrics = (try? MetricRow.read(trial.metrics)) ?? []
            return (ListedTrial(folder: folder, summary: summary, lastStep: max(summary.steps, metrics.last.map { $0.step + 1 } ?? 0)), metrics)
        }
    }

    /// The fields every trial has, beside its settings (dotted keys) and its probed layers'
    /// activation statistics (`activationKeys`).
    public static let fields = ["id", "folder", "status", "steps", "test_accuracy", "train_accuracy", "final_loss", "seconds",
                                "ms_per_step", "parameters", "flags"]

    /// `conv1.act_mean` and `conv1.act_var` for each probed layer: the mean and variance of its
    /// activations over the test split.
    public var activationKeys: [String] {
        summary.activations.keys.sorted { $0.compare($1, options: .numeric) == .orderedAscending }
            .flatMap { ["\($0).act_mean", "\($0).act_var"] }
    }

    /// The layer and statistic an activation key names.
    static func activation(_ key: String) -> (layer: String, variance: Bool)? {
        for (suffix, variance) in [(".act_mean", false), (".act_var", true)] where key.hasSuffix(suffix) {
            return (String(key.dropLast(suffix.count)), variance)
        }
        return nil
    }

    func activationValue(_ key: String) -> Double? {
        guard let (layer, variance) = Self.activation(key), let statistics = summary.activations[layer] else { return nil }
        return variance ? statistics.variance : statistics.mean
    }

    var millisecondsPerStep: Double? {
        summary.millisecondsPerStep(over: summary.status == .running || summary.status == .interrupted ? lastStep : nil)
    }

    /// The value of a field or a setting as text; nil when the trial has none.
    public func value(_ key: String) -> String? {
        let s = summary
        switch key {
        case "id", "trial": return s.id
        case "folder": return folder
        case "status": return s.status == .diverged ? "diverged" : s.status.rawValue
        case "steps": return String(s.status == .running || s.status == .interrupted ? lastStep : s.steps)
        case "test_accuracy": return s.testAccuracy.map { String(format: "%.4f", $0) }
        case "train_accuracy": return s.trainAccuracy.map { String(format: "%.4f", $0) }
        case "final_loss": return s.finalLoss.map { String(format: "%.4g", $0) }
        case "seconds": return String(format: "%.1f", s.seconds)
        case "parameters": return String(s.parameters)
        case "flags": return flags.joined(separator: "; ")
        case "ms_per_step": return millisecondsPerStep.map { String(format: "%.1f", $0) }
        default:
            if let setting = s.settings[key] { return setting }
            return activationValue(key).map { String(format: "%.3g", $0) }
        }
    }

    /// The value for sorting and comparing: the unrounded number where the field is one.
    public func rawValue(_ key: String) -> String? {
        switch key {
        case "test_accuracy": return summary.testAccuracy.map { "\($0)" }
        case "train_accuracy": return summary.trainAccuracy.map { "\($0)" }
        case "final_loss": return summary.finalLoss.map { "\($0)" }
        case "seconds": return "\(summary.seconds)"
        case "ms_per_step": return millisecondsPerStep.map { "\($0)" }
        default:
            if summary.settings[key] == nil, let statistic = activationValue(key) { return "\(statistic)" }
            return value(key)
        }
    }
}

/// A `--where` condition: `KEY=VALUE`, `KEY!=VALUE`, `KEY<VALUE`, `KEY<=VALUE`, `KEY>VALUE`,
/// `KEY>=VALUE`. Numbers compare as numbers (`optimizer.lr=1e-3` matches `0.001`), other values
/// as text; `<`-style comparisons need numbers.
public struct TrialCondition: Sendable, Equatable {
    public enum Comparison: String, Sendable, CaseIterable { case lessOrEqual = "<=", greaterOrEqual = ">=", notEqual = "!=", less = "<", greater = ">", equal = "=" }
    public var key: String
    public var comparison: Comparison
    public var value: String

    public init(parsing text: String) throws {
        // Two-character operators first, so `<=` is not read as `<` then `=value`.
        for comparison in Comparison.allCases {
            if let range = text.range(of: comparison.rawValue), range.lowerBound != text.startIndex {
                key = String(text[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
                value = String(text[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                self.comparison = comparison
                if comparison != .equal && comparison != .notEqual && Double(value) == nil {
                    throw LoupeError.invalidArgument(name: "--where \(text)", message: "\(comparison.rawValue) compares numbers, and '\(value)' is not one")
                }
                return
            }
        }
        throw LoupeError.invalidArgument(name: "--where \(text)", message: "must be KEY=VALUE, or KEY<VALUE, KEY>=VALUE and the like, e.g. optimizer.lr<=1e-3")
    }

    public func matches(_ trial: ListedTrial) -> Bool {
        guard let actual = trial.rawValue(key) else { return comparison == .notEqual }
        let (a, b) = (Double(actual), Double(value))
        switch comparison {
        case .equal: return a != nil && b != nil ? a == b : actual == value
        case .notEqual: return a != nil && b != nil ? a != b : actual != value
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let a, let b else { return false }
            switch comparison {
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            default: return a >= b
            }
        }
    }

    /// Throws when `key` is neither a field nor a setting of any trial, with the closest name.
    public static func checkKey(_ key: String, known: [String], flag: String) throws {
        guard !known.contains(key) && key != "trial" else { return }
        var message = "no trial has a setting or field '\(key)'"
        let extensions = known.filter { $0.hasPrefix(key) }
        if let suggestion = extensions.count == 1 ? extensions[0] : closestName(key, among: known) { message += "; did you mean '\(suggestion)'?" }
        throw LoupeError.invalidArgument(name: flag, message: message + " (keys: \(known.joined(separator: ", ")))")
    }
}

extension ListedTrial {
    /// Sorts by `key` (`KEY` ascending, `KEY:desc` descending): numbers as numbers, trials
    /// without the key last, ties by folder and id.
    public static func sorted(_ trials: [ListedTrial], by key: String, descending: Bool) -> [ListedTrial] {
        trials.sorted { x, y in
            let (a, b) = (x.rawValue(key), y.rawValue(key))
            if let a, let b, a != b {
                if let p = Double(a), let q = Double(b) {
                    if p != q { return descending ? p > q : p < q }
                } else {
                    return descending ? a > b : a < b
                }
            } else if (a == nil) != (b == nil) {
                return a != nil
            }
            return (x.folder, x.summary.id) < (y.folder, y.summary.id)
        }
    }

    /// The table of `columns`, fitted to `width` characters (nil: no limit): flags wrap, and
    /// columns that still do not fit are left out and named.
    public static func table(_ trials: [ListedTrial], columns: [String], width: Int? = nil) -> String {
        let text: Set<String> = ["id", "trial", "folder", "status", "flags"]
        let numbers = Set(columns.indices.filter { column in
            !text.contains(columns[column]) && trials.allSatisfy { $0.rawValue(columns[column]).map { Double($0) != nil } ?? true }
        })
        let table = TextTable(header: columns.map { $0 == "id" ? "trial" : $0 },
                              rows: trials.map { trial in columns.map { trial.value($0) ?? "—" } },
                              wrapping: Set(columns.indices.filter { columns[$0] == "flags" }), rightAligned: numbers,
                              hint: "--columns chooses them, --csv and --json have every one")
        return table.render(width: width)
    }

    /// RFC 4180 CSV of `columns`, with a header row.
    public static func csv(_ trials: [ListedTrial], columns: [String]) -> String {
        func quoted(_ text: String) -> String {
            text.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        let lines = [columns.map(quoted).joined(separator: ",")] + trials.map { trial in
            columns.map { quoted(trial.rawValue($0) ?? "") }.joined(separator: ",")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `loupe runs --json`: one object per trial, its summary whole beside where it came from.
public struct ListedTrialJSON: Encodable {
    public var folder: String
    public var lastStep: Int
    public var flags: [String]
    public var summary: TrialSummary
    enum CodingKeys: String, CodingKey { case folder, flags, summary, lastStep = "last_step" }
    public init(_ trial: ListedTrial) {
        (folder, lastStep, flags, summary) = (trial.folder, trial.lastStep, trial.flags, trial.summary)
    }
}
