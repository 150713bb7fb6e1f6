import ArgumentParser
import Foundation
import LoupeCore
import LoupeLab

/// Where a trial of a results folder stands, from its folder and its lock.
enum SweepState {
    /// No folder, or one without a summary yet, and no process running it.
    case missing
    /// A process holds its lock now.
    case running
    /// Its summary, no process running it.
    case recorded(TrialSummary)
    /// A summary that cannot be read.
    case unreadable(String)

    static func status(of id: String, in layout: ExperimentLayout) -> SweepState {
        if TrialLock.isHeld(id: id, layout: layout) { return .running }
        let url = layout.trial(id).summary
        guard FileManager.default.fileExists(atPath: url.path) else { return .missing }
        do { return .recorded(try TrialSummary.read(url)) } catch { return .unreadable("\(error)") }
    }

    /// One word for listings: missing, running, completed, diverged, failed, stopped (a
    /// checkpoint to resume from: interrupted, or killed while it ran), unreadable.
    var word: String {
        switch self {
        case .missing: return "missing"
        case .running: return "running"
        case .unreadable: return "unreadable"
        case let .recorded(summary):
            switch summary.status {
            case .completed: return "completed"
            case .diverged: return "diverged"
            case .failed: return "failed"
            case .running, .interrupted: return "stopped"
            }
        }
    }
}

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "A sweep run by array jobs: what is done and what to resubmit.",
        subcommands: [Status.self])

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Done, running, failed and missing trial indices of a results folder, and the --array= list to resubmit.",
            discussion: """
                Reads the experiment (DIR/experiment.yaml, or --experiment FILE with --set as given to loupe run), \
                each trial's folder and lock. A trial is running while a process holds its lock; stopped when its \
                summary says running or interrupted and no process holds it (killed, preempted: it resumes from its \
                checkpoint); failed, missing (never started) or unreadable. Those, not running, are to resubmit. \
                Exit code 0 when every trial is completed or diverged, else 1.
                """)

        @Argument(help: "The results folder the array tasks write (loupe run --out).") var directory: String
        @Option(help: "The experiment file the tasks ran (default: DIR/experiment.yaml).") var experiment: String?
        @Option(name: .customLong("set"), help: "The --set overrides the tasks ran with (repeatable).") var overrides: [String] = []

        func run() throws {
            do {
                let layout = ExperimentLayout(root: URL(fileURLWithPath: directory))
                guard FileManager.default.fileExists(atPath: layout.trialsFolder.path) || experiment != nil else {
                    throw LoupeError.file(path: layout.trialsFolder.path, message: "missing: not a results folder of loupe run (or give --experiment FILE)")
                }
                let file = experiment ?? layout.experimentFile.path
                let loaded = try Experiment.load(path: file, overrides: overrides)
                var byWord: [String: [Int]] = [:]
                var failures: [(Int, String)] = []
                for trial in loaded.trials {
                    let state = SweepState.status(of: trial.id, in: layout)
                    byWord[state.word, default: []].append(trial.index)
                    if case let .recorded(summary) = state, summary.status == .failed { failures.append((trial.index, summary.error ?? "no message")) }
                    if case let .unreadable(message) = state { failures.append((trial.index, message)) }
                }
                let known = Set(loaded.trials.map(\.id))
                let strangers = try layout.trialIDs().filter { !known.contains($0) }
                let count = loaded.trials.count
                let done = (byWord["completed"] ?? []) + (byWord["diverged"] ?? [])
                print("\(loaded.name): \(count) trial\(count == 1 ? "" : "s") in \(layout.root.path)")
                for word in ["completed", "diverged", "running", "stopped", "failed", "unreadable", "missing"] {
                    let indices = byWord[word] ?? []
                    guard !indices.isEmpty || ["completed", "running", "failed", "missing"].contains(word) else { continue }
                    let list = indices.isEmpty ? "" : ": \(TrialSelection.arrayList(indices))"
                    print("  \(word.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(indices.count).leftPadded(4))\(list)")
                }
                for (index, message) in failures.prefix(10) { print("  failed \(index): \(message)") }
                if !strangers.isEmpty {
                    print("  \(strangers.count) trial folder\(strangers.count == 1 ? " is" : "s are") not trials of this experiment (another experiment or other --set): \(strangers.prefix(5).joined(separator: ", "))\(strangers.count > 5 ? ", …" : "")")
                }
                let resubmit = ["stopped", "failed", "unreadable", "missing"].flatMap { byWord[$0] ?? [] }
                if resubmit.isEmpty {
                    print(done.count == count ? "All \(count) trials are done." : "Nothing to resubmit; \(count - done.count) running.")
                } else {
                    print("Resubmit \(resubmit.count): --array=\(TrialSelection.arrayList(resubmit))")
                }
                if done.count != count { Foundation.exit(1) }
            } catch { fail(error, exitCode: RunExitCode.of(error)) }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
