import ArgumentParser
import Foundation
import LoupeCore
import LoupeInsight
import LoupeLab

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, filter and compare the trials of results folders.",
        discussion: """
            Trials are read from their folders, so running and interrupted ones appear with the last step they logged.
            Keys are a trial's settings (optimizer.lr, train.seed, …), its probed layers' activation statistics (conv1.act_mean, conv1.act_var, …) and the fields \(ListedTrial.fields.joined(separator: ", ")).
            Examples:
              loupe runs runs/cnn-optimizers --where optimizer.lr=1e-3 --where test_accuracy'>='0.4 --sort test_accuracy:desc
              loupe runs --columns id,optimizer.name,test_accuracy,flags --csv > trials.csv
            """)
    @Argument(help: "Results folders (default: every results folder under runs/).") var directories: [String] = []
    @Option(name: .customLong("where"), help: "Keep trials whose key compares so: KEY=VALUE, KEY!=VALUE, KEY<VALUE, KEY<=VALUE, KEY>VALUE, KEY>=VALUE; numbers compare as numbers (repeatable, all must hold).")
    var filters: [String] = []
    @Option(help: "Order by a key: KEY ascending, KEY:desc descending (default: best test accuracy first).") var sort: String?
    @Option(help: "The columns to show, comma-separated keys (default: trial, folder when several, the settings that vary, status, steps, accuracies, each probed layer's activation mean and variance, seconds, flags; fitted to the terminal's width).")
    var columns: String?
    @Flag(help: "Print JSON: one object per trial with its whole summary, folder, last step and flags.") var json = false
    @Flag(help: "Print CSV of the columns, with a header row.") var csv = false

    func run() throws {
        do {
            if json && csv { throw LoupeError.invalidArgument(name: "--json", message: "cannot be given together with --csv") }
            var folders = directories
            if folders.isEmpty {
                let root = "runs"
                folders = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted().map { "\(root)/\($0)" }
                    .filter { FileManager.default.fileExists(atPath: ExperimentLayout(root: URL(fileURLWithPath: $0)).trialsFolder.path) }
            }
            var trials: [ListedTrial] = []
            for folder in folders {
                for (trial, metrics) in try ListedTrial.read(folder: folder) {
                    var listed = trial
                    listed.flags = TrialFlag.flags(summary: trial.summary, metrics: metrics).map(\.text)
                    trials.append(listed)
                }
            }
            let settingKeys = Set(trials.flatMap(\.summary.settings.keys)).sorted()
            let activationKeys = trials.flatMap(\.activationKeys).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            let known = ListedTrial.fields + settingKeys + activationKeys
            let conditions = try filters.map(TrialCondition.init(parsing:))
            if !trials.isEmpty { for condition in conditions { try TrialCondition.checkKey(condition.key, known: known, flag: "--where") } }
            trials = trials.filter { trial in conditions.allSatisfy { $0.matches(trial) } }

            if let sort {
                let descending = sort.hasSuffix(":desc")
                let key = descending ? String(sort.dropLast(5)) : (sort.hasSuffix(":asc") ? String(sort.dropLast(4)) : sort)
                try TrialCondition.checkKey(key, known: known, flag: "--sort")
                trials = ListedTrial.sorted(trials, by: key, descending: descending)
            } else {
                trials.sort { TrialSummary.ranked($0.summary, before: $1.summary) }
            }
            let varying = settingKeys.filter { key in Set(trials.map { $0.summary.settings[key] ?? "" }).count > 1 }
            var shown = ["id"] + (folders.count > 1 ? ["folder"] : []) + (varying.isEmpty ? settingKeys : varying)
            shown += ["status", "steps", "test_accuracy", "train_accuracy"] + activationKeys + ["seconds", "flags"]
            if let columns {
                shown = columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                guard !shown.isEmpty else { throw LoupeError.invalidArgument(name: "--columns", message: "must name at least one key") }
                for key in shown { try TrialCondition.checkKey(key, known: known, flag: "--columns") }
            }

            if json {
                let encoder = TrialSummary.encoder
                print(String(decoding: try encoder.encode(trials.map(ListedTrialJSON.init)), as: UTF8.self))
            } else if csv {
                print(ListedTrial.csv(trials, columns: shown), terminator: "")
            } else if trials.isEmpty {
                print("No trials found\(filters.isEmpty ? "" : " matching \(filters.joined(separator: ", "))").")
            } else {
                print(ListedTrial.table(trials, columns: shown, width: TextTable.outputWidth()))
            }
        } catch { fail(error) }
    }
}
