import ArgumentParser
import Foundation
import LoupeCore
import LoupeData
import LoupeInsight
import LoupeLab
import LoupeNN

@main
struct Loupe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loupe",
        abstract: "Train small neural networks, compare how they train, and see what they learn.",
        version: LoupeVersion.current,
        subcommands: [Run.self, Trials.self, Report.self, Inspect.self, Runs.self, Eval.self, Merge.self, SweepCommand.self, DataCommand.self, Keys.self]
    )

    /// Unknown commands get a suggestion; usage errors exit 2 (ArgumentParser's own code is 64),
    /// which schedulers and scripts read as "do not retry"; see `RunExitCode`.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let commands = configuration.subcommands.map { $0._commandName } + ["help"]
        let inner = Dictionary(uniqueKeysWithValues: configuration.subcommands.compactMap { command -> (String, [String])? in
            let names = command.configuration.subcommands.map { $0._commandName }
            return names.isEmpty ? nil : (command._commandName, names + ["help"])
        })
        if let message = unknownCommandMessage(arguments, commands: commands, subcommands: inner) {
            FileHandle.standardError.write(Data("loupe: \(message)\n".utf8))
            Foundation.exit(RunExitCode.usage)
        }
        do {
            var command = try await asyncParseAsRoot(Run.rewritingTrialFromEnv(arguments))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(RunExitCode.usage)
        }
    }
}

/// Writes a line to standard output unbuffered, so it stays in order with the console's lines.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Prints a user error as `loupe: <message>` and exits 1, or `exitCode` (no stack trace for
/// things a user caused).
func fail(_ error: Error, exitCode: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("loupe: \(userMessage(error))\n".utf8))
    Foundation.exit(exitCode)
}

/// SIGINT and SIGTERM (what Ctrl-C, SLURM and Kubernetes send before a kill): the first asks the
/// trainers to stop after their current step, writing a checkpoint; a second SIGINT exits at once.
func stopOnSignals(_ request: StopRequest) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler {
            if request.isRequested {
                guard number == SIGINT else { return }
                FileHandle.standardError.write(Data("\nloupe: stopped at once (resume continues from the last checkpoint)\n".utf8))
                Foundation.exit(130)
            }
            request.request(signal: number)
            FileHandle.standardError.write(Data("\nloupe: stopping after the current step and writing a checkpoint; Ctrl-C again stops at once\n".utf8))
        }
        source.resume()
        return source
    }
}

/// `--threads N`: the error names the flag.
func setThreads(_ count: Int) throws {
    do { try setComputeThreads(count) } catch {
        throw LoupeError.invalidArgument(name: "--threads", message: "must be between \(computeThreadRange.lowerBound) and \(computeThreadRange.upperBound), got \(count)")
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every trial of an experiment file, or some of them (--trial, --shard, --trial-from-env).",
        discussion: """
            --trial, --shard and --trial-from-env run the trials with those indices (loupe trials FILE lists them) into \
            the results folder, as --resume does: a finished trial is left as it is, a half-run one continues from its \
            checkpoint. Many processes, on one machine or many over a shared file system, may run different indices \
            into one folder at once; a trial already being run by another process is not touched (exit 75).

            Exit codes:
              0    done: every trial it ran completed, now or before
              1    a trial failed (its summary.json says why)
              2    usage or configuration error; nothing ran; do not retry
              3    a trial diverged (NaN or infinite loss): same on every retry
              75   transient: I/O error, disk full, trial running elsewhere; retry
              130  SIGINT, 143 SIGTERM: checkpoints written; run again to resume
            With several trials: 75 before 1 before 3.
            """)

    @Argument(help: "The experiment file (YAML).") var file: String
    @Option(help: "Results folder (default: runs/<experiment name>).") var out: String?
    @Option(parsing: .unconditional, help: "Trials to run side by side, at least 1 (results are identical whatever this is).") var jobs: String = "1"
    @Flag(help: "Continue an interrupted run: skip finished trials, continue the others from their last checkpoint.") var resume = false
    @Option(name: .customLong("set"), help: "Override a setting, e.g. --set train.steps=100 (repeatable).") var overrides: [String] = []
    @Flag(help: "Only the results table and trial lines, no per-step lines.") var quiet = false
    @Option(help: "Worker threads for each trial's parallel loops (default: LOUPE_THREADS, else the cores; results are identical whatever this is).") var threads: Int?
    @Option(name: .customLong("trial"), help: ArgumentHelp("Run only the trials of these indices, e.g. 3 or 0,4,8-11 (repeatable; see loupe trials FILE).", valueName: "index"))
    var trialIndices: [String] = []
    @Option(help: ArgumentHelp("Run only shard i of n (from 0): the trials whose index is i modulo n.", valueName: "i/n")) var shard: String?
    @Option(name: .customLong("trial-from-env"), help: ArgumentHelp("Run the trial whose index is in the first of these environment variables that is set (given alone: SLURM_ARRAY_TASK_ID,JOB_COMPLETION_INDEX).", valueName: "variable[,variable…]"))
    var trialFromEnv: String?

    /// `--trial-from-env` given without a variable: ArgumentParser's options need a value, so a
    /// bare flag (not followed by an environment variable's name) is given the default list.
    static func rewritingTrialFromEnv(_ arguments: [String]) -> [String] {
        var result: [String] = []
        for (position, argument) in arguments.enumerated() {
            guard argument == "--trial-from-env" else {
                result.append(argument)
                continue
            }
            let next = position + 1 < arguments.count ? arguments[position + 1] : ""
            let isVariable = next.first.map { $0.isUppercase || $0 == "_" } == true && next.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" || $0 == "," }
            result.append(isVariable ? argument : "--trial-from-env=" + TrialSelection.defaultEnvironmentVariables.joined(separator: ","))
        }
        return result
    }

    /// The trials the flags select (at most one of them may be given).
    func selection() throws -> TrialSelection {
        let given = [!trialIndices.isEmpty ? "--trial" : nil, shard != nil ? "--shard" : nil, trialFromEnv != nil ? "--trial-from-env" : nil].compactMap { $0 }
        guard given.count <= 1 else {
            throw LoupeError.invalidArgument(name: given.joined(separator: " and "), message: "choose one way of selecting trials")
        }
        if !trialIndices.isEmpty { return .indices(try TrialSelection.parseIndices(trialIndices)) }
        if let shard { return try TrialSelection.parseShard(shard) }
        if let trialFromEnv {
            return try TrialSelection.fromEnvironment(trialFromEnv.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        return .all
    }

    func run() throws {
        do {
            guard let jobs = Int(self.jobs), jobs >= 1 else {
                throw LoupeError.invalidArgument(name: "--jobs", message: "must be a whole number of trials at least 1, got \(self.jobs)")
            }
            if let threads { try setThreads(threads) }
            let selection = try selection()
            let experiment = try Experiment.load(path: file, overrides: overrides)
            let output = URL(fileURLWithPath: out ?? "runs/\(experiment.name)")
            let stopRequest = StopRequest()
            let runner = try ExperimentRunner(experiment: experiment, output: output, jobs: jobs, resume: resume,
                                              console: Console(quiet: quiet), stopRequest: stopRequest, selection: selection,
                                              inspectionHooks: { trial, data in
                                                  trial.config.inspect.map { [InspectionHook(config: $0, data: data)] } ?? []
                                              })
            // Data, models and probes are checked before the header, so a mistake prints only its error.
            try runner.preflight()
            let cores = computeThreads
            if jobs > cores { say("note: --jobs \(jobs) is more than the \(cores) cores here; trials will share them") }
            for note in experiment.notes { say("note: \(note)") }
            let count = experiment.trials.count
            if runner.isSelection {
                say("\(experiment.name): trial\(runner.indices.count == 1 ? "" : "s") \(TrialSelection.arrayList(runner.indices)) of \(count) → \(output.path)")
            } else {
                say("\(experiment.name): \(count) trial\(count == 1 ? "" : "s") → \(output.path)")
            }
            let handlers = stopOnSignals(stopRequest)
            let outcomes = try runner.runTrials()
            withExtendedLifetime(handlers) {}
            if let signal = stopRequest.signal {
                var command = ["loupe", "run", file] + overrides.flatMap { ["--set", $0] } + ["--out", output.path]
                if jobs > 1 { command += ["--jobs", String(jobs)] }
                switch selection {
                case .all: command.append("--resume")
                case .indices: command += ["--trial", TrialSelection.arrayList(runner.indices)]
                case .shard: command += ["--shard", shard!]
                }
                let quoted = command.map { $0.allSatisfy { $0.isLetter || $0.isNumber || "-_./=+,".contains($0) } ? $0 : "'\($0)'" }
                let stopped = outcomes.map(\.summary).filter { $0.status == .interrupted }.map { "  \($0.id) at step \($0.steps)" }
                say("\nStopped: each running trial wrote a checkpoint" + (stopped.isEmpty ? "." : ":\n" + stopped.joined(separator: "\n"))
                    + "\nContinue with:\n  \(quoted.joined(separator: " "))")
                Foundation.exit(RunExitCode.stopped(signal: signal))
            }
            say("\nResults in \(output.path); make a report with: loupe report \(output.path)")
            let code = RunExitCode.of(outcomes)
            if code != RunExitCode.done { Foundation.exit(code) }
        } catch { fail(error, exitCode: RunExitCode.of(error)) }
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write report.html and report.md for a results folder.")
    @Argument(help: "A results folder written by loupe run.") var directory: String
    @Option(help: "Where the page goes: a file ending in .html (its Markdown twin and images beside it), or a folder (default: the results folder).")
    var out: String?

    func run() throws {
        do {
            let folder = URL(fileURLWithPath: directory)
            let (html, markdown) = try LoupeInsight.Report.write(experiment: folder, to: out.map { URL(fileURLWithPath: $0) })
            // The report read the trial folders; the index is rebuilt from them too.
            try RunStore.rebuild(ExperimentLayout(root: folder))
            print("Wrote \(html.path) and \(markdown.path)")
        } catch { fail(error) }
    }
}

struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "The dataset catalog: list, get, verify.",
        subcommands: [List.self, Get.self, Verify.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the catalog's datasets and where they are installed.")
        func run() throws {
            do {
                let catalog = DatasetCatalog()
                print("data directory: \(catalog.dataDirectory)")
                for entry in catalog.entries {
                    let location = try catalog.location(of: entry.name)
                    print("\(entry.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(location.map { "installed at \($0)" } ?? "not installed")  — \(entry.summary)")
                }
            } catch { fail(error) }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a dataset into the data directory (verified by SHA-256), or derive it from the one it is made from.",
            discussion: "cifar10-gray28 and mnist-png28 are derived from cifar10 and mnist, which are downloaded first when missing. A dataset already installed is left as it is.")
        @Argument(help: ArgumentHelp("A catalog name: \(catalogNames).")) var name: String
        func run() async throws {
            do {
                let folder = try await DatasetCatalog().fetch(name, progress: { say($0) })
                say("\(name) is at \(folder)")
            } catch { fail(error) }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a dataset as loupe run reads it: a catalog name (its files' SHA-256 sums first) or a folder.",
            discussion: "Reads both splits exactly as training does, checks that they agree (class folders, image sizes, neither empty) and prints a summary; the first bad file is named with the reason, and the exit code is 1.")
        @Argument(help: "A catalog name (\(catalogNames)), or a folder: Train/<class>/*.png and Test/<class>/*.png, MNIST's IDX files, or CIFAR-10's binary batches.")
        var dataset: String
        @Option(help: "How the folder stores the dataset: folder, idx or cifar10 (default: told by the files it holds).")
        var format: DatasetFormat?

        func run() throws {
            do {
                let catalog = DatasetCatalog()
                let source: DatasetSource
                if format == nil, catalog.entries.contains(where: { $0.name == dataset }) {
                    guard try checkSums(catalog) else { Foundation.exit(1) }
                    source = .catalog(dataset)
                } else {
                    let format = try self.format ?? DatasetFormat.detect(dataset)
                    say("\(dataset): format \(format.rawValue)")
                    source = .path(dataset, format: format)
                }
                let (train, test) = try source.loadSplits(catalog: catalog)
                for (split, part) in [(DatasetSplit.train, train), (.test, test)] {
                    say("\(split.rawValue): \(part.count) images, \(part.classCount) classes, sample shape \(part.imageShape) (height x width x channels)")
                }
                let (trainCounts, testCounts) = (train.classCounts, test.classCounts)
                let classes = train.classNames.indices.map { "\(train.classNames[$0]) (\(trainCounts[$0]) train, \(testCounts[$0]) test)" }
                say("classes: " + classes.joined(separator: ", "))
                say("ok: both splits read as loupe run reads them")
            } catch { fail(error) }
        }

        /// Prints each published file's check; false when one is missing or differs.
        func checkSums(_ catalog: DatasetCatalog) throws -> Bool {
            var good = true
            for check in try catalog.verify(dataset) {
                let text: String
                switch check.status {
                case .verified: text = "ok"
                case .contentVerified: text = "ok (content)"
                case .noChecksum: text = "present (no published checksum)"
                case .missing: text = "MISSING"; good = false
                case let .mismatch(expected, found): text = "MISMATCH: expected \(expected), found \(found)"; good = false
                }
                say("\(check.path): \(text)")
            }
            return good
        }
    }
}

extension DatasetFormat: ExpressibleByArgument {}
