import ArgumentParser
import Foundation
import LoupeCore
import LoupeLab

/// `loupe trials FILE`: the expanded sweep, one line per trial (index, id, settings), the indices
/// `loupe run --trial` and array jobs take.
struct Trials: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List an experiment's trials: index, id and settings (the indices loupe run --trial takes).",
        discussion: """
            The order depends only on the experiment (after --set): seed by seed, in the order sweep.seeds lists \
            them; within a seed, the grid of the axes with the first axis varying slowest, then sweep.include. \
            Adding a seed at the end of sweep.seeds appends trials and keeps every index. Adding an axis value \
            or an included configuration keeps every id but shifts indices: with --out DIR, each trial that \
            ran in DIR under another index says so ("was N"), as does the status of each trial there.
            """)

    @Argument(help: "The experiment file (YAML).") var file: String
    @Option(name: .customLong("set"), help: "Override a setting, as loupe run does (repeatable).") var overrides: [String] = []
    @Option(help: "A results folder: show each trial's status there, and the indices that moved since its trials ran.") var out: String?
    @Flag(help: "One JSON array: {index, id, settings, and with --out: status, was_index}.") var json = false

    struct Line: Encodable {
        var index: Int
        var id: String
        var settings: [String: String]
        var status: String?
        var wasIndex: Int?
        enum CodingKeys: String, CodingKey { case index, id, settings, status, wasIndex = "was_index" }
    }

    func run() throws {
        do {
            let experiment = try Experiment.load(path: file, overrides: overrides)
            let layout = out.map { ExperimentLayout(root: URL(fileURLWithPath: $0)) }
            if let layout, !FileManager.default.fileExists(atPath: layout.root.path) {
                throw LoupeError.file(path: layout.root.path, message: "does not exist (--out)")
            }
            let lines = experiment.trials.map { trial -> Line in
                var line = Line(index: trial.index, id: trial.id, settings: trial.settingsDictionary)
                if let layout {
                    let status = SweepState.status(of: trial.id, in: layout)
                    line.status = status.word
                    if case let .recorded(summary) = status, let index = summary.index, index != trial.index { line.wasIndex = index }
                }
                return line
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(lines), as: UTF8.self))
                return
            }
            print("\(experiment.name): \(lines.count) trial\(lines.count == 1 ? "" : "s") (loupe run \(file) --trial INDEX)")
            let idWidth = max(2, lines.map(\.id.count).max() ?? 0)
            var header = "index".padding(toLength: 6, withPad: " ", startingAt: 0) + "id".padding(toLength: idWidth + 2, withPad: " ", startingAt: 0)
            if layout != nil { header += "status      " }
            print(header + "settings")
            for (line, trial) in zip(lines, experiment.trials) {
                var text = String(line.index).padding(toLength: 6, withPad: " ", startingAt: 0) + line.id.padding(toLength: idWidth + 2, withPad: " ", startingAt: 0)
                if let status = line.status { text += status.padding(toLength: 12, withPad: " ", startingAt: 0) }
                text += trial.settings.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                if let was = line.wasIndex { text += "  (was \(was))" }
                print(text)
            }
            let moved = lines.filter { $0.wasIndex != nil }
            if !moved.isEmpty {
                print("\(moved.count) trial\(moved.count == 1 ? " has" : "s have") another index than when it ran in \(out!): resubmit by the indices above")
            }
        } catch { fail(error, exitCode: RunExitCode.of(error)) }
    }
}
