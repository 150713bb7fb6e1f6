import Foundation
import LoupeCore
@testable import LoupeLab
import Testing

/// A sweep small enough to run many times in seconds: a dense network on 8x8 PNGs the test
/// writes (three classes), `lrs` × `seeds` trials of the optimizers adam and sgd.
private func tinySweep(data: URL, steps: Int = 120, seeds: [Int] = [0, 1, 2], lrs: [String] = ["1.0e-2", "1.0e-1"]) -> String {
    """
    name: tiny-sweep
    data: {path: \(data.path), format: folder}
    model:
      layers:
        - {type: dense, name: fc1, units: 24, activation: relu}
        - {type: dropout, keep_probability: 0.8}
        - {type: dense, name: fc2, units: 3}
    train: {steps: \(steps), batch_size: 8, log_every: 5, checkpoint_every: 10, seed: 0}
    optimizer: {name: adam, lr: 1.0e-2}
    sweep:
      optimizer.name: [adam, sgd]
      optimizer.lr: [\(lrs.joined(separator: ", "))]
      seeds: [\(seeds.map(String.init).joined(separator: ", "))]
    """
}

private func writeTinyData(_ folder: URL) throws {
    try writePNGFolder(folder, split: "Train", classes: ["a", "b", "c"], side: 8, images: 12)
    try writePNGFolder(folder, split: "Test", classes: ["a", "b", "c"], side: 8, images: 4)
}

/// A summary without what may differ between two runs of the same trial: its times and thread count.
private func comparable(_ summary: TrialSummary) -> TrialSummary {
    var summary = summary
    summary.seconds = 0
    summary.threads = nil
    return summary
}

/// Every trial of `b` has `a`'s weights byte for byte, its summary apart from times, and its
/// metrics rows (step, loss, accuracy, learning rate: the seconds are wall time) each step once.
private func expectSameTrials(_ a: URL, _ b: URL, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let ids = try ExperimentLayout(root: a).trialIDs()
    #expect(!ids.isEmpty, sourceLocation: sourceLocation)
    #expect(try ExperimentLayout(root: b).trialIDs() == ids, "\(label): other trial folders", sourceLocation: sourceLocation)
    for id in ids {
        let x = ExperimentLayout(root: a).trial(id), y = ExperimentLayout(root: b).trial(id)
        #expect(try Data(contentsOf: x.weights) == Data(contentsOf: y.weights), "\(label): \(id) weights differ", sourceLocation: sourceLocation)
        #expect(try comparable(TrialSummary.read(x.summary)) == comparable(TrialSummary.read(y.summary)), "\(label): \(id) summaries differ", sourceLocation: sourceLocation)
        let rows = { (t: TrialLayout) in try MetricRow.read(t.metrics).map { [Double($0.step), $0.loss, $0.accuracy, $0.learningRate] } }
        #expect(try rows(x) == rows(y), "\(label): \(id) metrics differ", sourceLocation: sourceLocation)
        let steps = try MetricRow.read(y.metrics).map(\.step)
        #expect(Set(steps).count == steps.count, "\(label): \(id) logs a step twice", sourceLocation: sourceLocation)
    }
}

/// Runs `loupe arguments` with its output thrown away (many at once would fill pipes nobody reads).
private func launch(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> Process {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Every file under `folder` whose name marks it temporary (`.….tmp`).
private func leftovers(under folder: URL) -> [String] {
    (FileManager.default.subpaths(atPath: folder.path) ?? []).filter {
        let name = ($0 as NSString).lastPathComponent
        return name.hasPrefix(".") && name.hasSuffix(".tmp")
    }
}

@Suite struct TrialIndexTests {
    /// For any n from 1 to 7, the shards i/n together hold every trial exactly once.
    @Test func everyShardOfNHoldsEveryTrialExactlyOnce() throws {
        let experiment = try Experiment.parse(text: tinySweep(data: URL(fileURLWithPath: "/nowhere")), path: "tiny.yaml")
        #expect(experiment.trials.map(\.index) == Array(0..<12))
        for count in [experiment.trials.count, 1, 2, 5, 23, 24] {
            for n in 1...7 {
                let shards = try (0..<n).map { try TrialSelection.shard($0, of: n).resolve(count: count) }
                let all = shards.flatMap { $0 }
                #expect(all.sorted() == Array(0..<count), "\(count) trials, n = \(n): \(shards)")
                #expect(shards.allSatisfy { $0.count >= count / n && $0.count <= count / n + 1 }, "uneven shards: \(shards)")
            }
        }
        #expect(throws: LoupeError.self) { try TrialSelection.parseShard("7/7") }
        #expect(throws: LoupeError.self) { try TrialSelection.parseShard("0/0") }
        #expect(throws: LoupeError.self) { try TrialSelection.parseShard("1") }
        #expect(try TrialSelection.parseShard("2/7") == .shard(2, of: 7))
    }

    /// Adding a seed appends trials, every earlier index and id kept; adding an axis value keeps
    /// every id (only indices move).
    @Test func addingASeedAppendsAndAddingAnAxisValueKeepsTheIds() throws {
        let data = URL(fileURLWithPath: "/nowhere")
        let before = try Experiment.parse(text: tinySweep(data: data, seeds: [0, 1]), path: "tiny.yaml")
        let moreSeeds = try Experiment.parse(text: tinySweep(data: data, seeds: [0, 1, 7]), path: "tiny.yaml")
        #expect(moreSeeds.trials.count == before.trials.count + 4)
        #expect(Array(moreSeeds.trials.prefix(before.trials.count).map(\.id)) == before.trials.map(\.id))
        #expect(moreSeeds.trials.suffix(4).allSatisfy { $0.config.train.seed == 7 })
        let moreValues = try Experiment.parse(text: tinySweep(data: data, seeds: [0, 1], lrs: ["1.0e-2", "1.0e-1", "1.0"]), path: "tiny.yaml")
        #expect(Set(before.trials.map(\.id)).isSubset(of: Set(moreValues.trials.map(\.id))))
        #expect(moreValues.trials.count == 12)
        // The same file twice: the same order.
        #expect(try Experiment.parse(text: tinySweep(data: data, seeds: [0, 1]), path: "other.yaml").trials.map(\.id) == before.trials.map(\.id))
    }

    @Test func indicesRangesAndTheEnvironment() throws {
        #expect(try TrialSelection.parseIndices(["3"]) == [3])
        #expect(try TrialSelection.parseIndices(["0,4,8-11", "2"]) == [0, 4, 8, 9, 10, 11, 2])
        for bad in ["", "x", "-1", "3-1", "1-", "2,,3"] {
            #expect(throws: LoupeError.self, "\(bad)") { try TrialSelection.parseIndices([bad]) }
        }
        #expect(try TrialSelection.indices([5, 1, 5]).resolve(count: 6) == [1, 5])
        #expect(throws: LoupeError.self) { try TrialSelection.indices([6]).resolve(count: 6) }
        #expect(TrialSelection.arrayList([9, 0, 1, 2, 3, 7, 10]) == "0-3,7,9-10")
        #expect(TrialSelection.arrayList([4]) == "4")
        let defaults = TrialSelection.defaultEnvironmentVariables
        #expect(try TrialSelection.fromEnvironment(defaults, environment: ["SLURM_ARRAY_TASK_ID": "4", "JOB_COMPLETION_INDEX": "9"]) == .indices([4]))
        #expect(try TrialSelection.fromEnvironment(defaults, environment: ["JOB_COMPLETION_INDEX": "9"]) == .indices([9]))
        #expect(throws: LoupeError.self) { try TrialSelection.fromEnvironment(defaults, environment: [:]) }
        #expect(throws: LoupeError.self) { try TrialSelection.fromEnvironment(defaults, environment: ["SLURM_ARRAY_TASK_ID": "x"]) }
    }

    /// The run index is rebuilt from the trial folders: a folder without a summary (just started)
    /// is left out, a running trial's last row being written is no error, a finished trial's
    /// broken metrics are; the new index replaces the old whole.
    @Test func theIndexIsRebuiltFromTheFolders() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let layout = ExperimentLayout(root: folder)
        try writeAtomically(Data("name: rebuilt\n".utf8), to: layout.experimentFile)
        func trial(_ id: String, _ status: TrialStatus, metrics: String?) throws {
            let trial = layout.trial(id)
            try FileManager.default.createDirectory(at: trial.root, withIntermediateDirectories: true)
            try TrialSummary(id: id, status: status, steps: 10, seconds: 1, parameters: 3, settings: ["train.seed": "0"]).write(to: trial.summary)
            if let metrics { try Data(metrics.utf8).write(to: trial.metrics) }
        }
        let rows = MetricRow.header + "\n0,1.5,0.25,0.01,0.001\n5,1.25,0.5,0.01,0.002\n"
        try trial("done", .completed, metrics: rows)
        try trial("writing", .running, metrics: rows + "10,1.")
        try FileManager.default.createDirectory(at: layout.trial("started").root, withIntermediateDirectories: true)
        let store = try RunStore.rebuild(layout)
        #expect(try store.trials().map(\.summary.id) == ["done", "writing"])
        #expect(try store.trials().allSatisfy { $0.experiment == "rebuilt" })
        #expect(try store.metrics(of: "done").map(\.step) == [0, 5])
        #expect(try store.metrics(of: "writing").isEmpty)
        try trial("more", .diverged, metrics: rows)
        #expect(try RunStore.rebuild(layout).trials().count == 3)
        #expect((try FileManager.default.contentsOfDirectory(atPath: folder.path)).filter { $0.hasSuffix(".tmp") }.isEmpty)
        try trial("broken", .completed, metrics: rows + "10,1.")
        #expect(throws: LoupeError.self) { try RunStore.rebuild(layout) }
        #expect(try RunStore(url: layout.store).trials().count == 3, "a failed rebuild keeps the index it would have replaced")
    }

    /// Errors and trial outcomes map to the documented exit codes.
    @Test func exitCodesFollowWhatWentWrong() {
        #expect(RunExitCode.of(LoupeError.config(key: "train.steps", message: "must be an integer")) == 2)
        #expect(RunExitCode.of(LoupeError.invalidArgument(name: "--trial 9", message: "past the end")) == 2)
        // What writeAtomically throws on a full disk or an I/O error.
        let full = LoupeError.file(path: "/r/summary.json", message: "cannot be written (\(String(cString: strerror(ENOSPC))))")
        let io = LoupeError.file(path: "/r/summary.json", message: "cannot be flushed to disk (\(String(cString: strerror(EIO))))")
        #expect(RunExitCode.of(full) == 75 && RunExitCode.of(io) == 75)
        #expect(RunExitCode.of(NSError(domain: NSPOSIXErrorDomain, code: Int(EDQUOT))) == 75)
        #expect(RunExitCode.of(TrialBusy(id: "a")) == 75)
        func outcome(_ status: TrialStatus, _ error: (any Error)? = nil) -> TrialOutcome {
            TrialOutcome(summary: TrialSummary(id: "t", status: status, steps: 1, seconds: 0, parameters: 1, settings: [:]), error: error)
        }
        #expect(RunExitCode.of([outcome(.completed), outcome(.completed)]) == 0)
        #expect(RunExitCode.of([outcome(.completed), outcome(.diverged)]) == 3)
        #expect(RunExitCode.of([outcome(.diverged), outcome(.failed, LoupeError.shapeMismatch(op: "matmul", message: "x"))]) == 1)
        #expect(RunExitCode.of([outcome(.failed, LoupeError.shapeMismatch(op: "matmul", message: "x"))]) == 2)
        #expect(RunExitCode.of([outcome(.diverged), outcome(.failed, full), outcome(.failed, LoupeError.config(key: "k", message: "m"))]) == 75)
        #expect(RunExitCode.stopped(signal: SIGTERM) == 143)
    }
}

@Suite(.serialized) struct SweepArrayTests {
    /// The same sweep run one trial after another, by `xargs -P 2` over `--trial` indices in a
    /// shuffled order, and with `--jobs 2`: the same bits in every trial. Then the folders
    /// merge (and a changed trial is refused), and the report and `loupe runs` see every trial.
    @Test func sequentialArrayTasksAndJobsGiveTheSameBits() throws {
        guard let executable = loupeExecutable() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try writeTinyData(folder.appendingPathComponent("data"))
        let file = folder.appendingPathComponent("tiny.yaml")
        try tinySweep(data: folder.appendingPathComponent("data")).write(to: file, atomically: true, encoding: .utf8)
        let sequential = folder.appendingPathComponent("sequential"), tasks = folder.appendingPathComponent("tasks"), jobs = folder.appendingPathComponent("jobs")
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", sequential.path, "--quiet"], data: folder.path)
        #expect(status == 0, "\(output)")
        let (jobsStatus, jobsOutput) = try runLoupe(executable, ["run", file.path, "--out", jobs.path, "--quiet", "--jobs", "2"], data: folder.path)
        #expect(jobsStatus == 0, "\(jobsOutput)")

        var generator = RandomGenerator(seed: 16, stream: 1)
        var order = Array(0..<12)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, generator.nextInt(below: i + 1)) }
        let script = "printf '%s\\n' \(order.map(String.init).joined(separator: " ")) | xargs -P 2 -I{} '\(executable.path)' run '\(file.path)' --out '\(tasks.path)' --trial {} --quiet > /dev/null"
        let xargs = Process()
        xargs.executableURL = URL(fileURLWithPath: "/bin/sh")
        xargs.arguments = ["-c", script]
        try xargs.run()
        xargs.waitUntilExit()
        #expect(xargs.terminationStatus == 0, "xargs: \(script)")
        try expectSameTrials(sequential, tasks, "xargs -P 2 --trial")
        try expectSameTrials(sequential, jobs, "--jobs 2")
        // Array tasks write no run index; each trial's lock is left beside its folder, unlocked.
        #expect(!FileManager.default.fileExists(atPath: ExperimentLayout(root: tasks).store.path))
        #expect(leftovers(under: tasks).isEmpty, "\(leftovers(under: tasks))")

        // Running a finished trial again changes nothing and exits 0.
        let weights = ExperimentLayout(root: tasks).trial(try ExperimentLayout(root: tasks).trialIDs()[0]).weights
        let before = try FileManager.default.attributesOfItem(atPath: weights.path)[.modificationDate] as? Date
        let (again, againOutput) = try runLoupe(executable, ["run", file.path, "--out", tasks.path, "--trial", "0-11"], data: folder.path)
        #expect(again == 0, "\(againOutput)")
        #expect(try FileManager.default.attributesOfItem(atPath: weights.path)[.modificationDate] as? Date == before)

        // loupe runs and loupe report rebuild the index from the folders.
        let (runsStatus, table) = try runLoupe(executable, ["runs", tasks.path, "--where", "optimizer.name=sgd"], data: folder.path)
        #expect(runsStatus == 0 && table.split(separator: "\n").filter { $0.contains("completed") }.count == 6, "\(table)")
        let (reportStatus, reportOutput) = try runLoupe(executable, ["report", tasks.path], data: folder.path)
        #expect(reportStatus == 0, "\(reportOutput)")
        #expect(try RunStore(url: ExperimentLayout(root: tasks).store).trials().count == 12)

        // Merge: the same trials from two folders join; a trial changed in one is refused, and nothing is written.
        let merged = folder.appendingPathComponent("merged")
        let (mergeStatus, mergeOutput) = try runLoupe(executable, ["merge", sequential.path, tasks.path, jobs.path, "--out", merged.path], data: folder.path)
        #expect(mergeStatus == 0 && mergeOutput.contains("12 finished trials"), "\(mergeOutput)")
        try expectSameTrials(sequential, merged, "merged")
        #expect(try RunStore(url: ExperimentLayout(root: merged).store).trials().count == 12)
        let changed = ExperimentLayout(root: jobs).trial(try ExperimentLayout(root: jobs).trialIDs()[3])
        var weightBytes = try Data(contentsOf: changed.weights)
        weightBytes[weightBytes.count - 1] ^= 1
        try weightBytes.write(to: changed.weights)
        let refused = folder.appendingPathComponent("refused")
        let (refusedStatus, refusedOutput) = try runLoupe(executable, ["merge", sequential.path, jobs.path, "--out", refused.path], data: folder.path)
        #expect(refusedStatus != 0 && refusedOutput.contains(changed.root.lastPathComponent) && refusedOutput.contains("different results"), "\(refusedOutput)")
        let refusedIDs = try ExperimentLayout(root: refused).trialIDs()
        #expect(refusedIDs.isEmpty, "a refused merge wrote \(refusedIDs)")
    }

    /// 4 worker processes over one results folder run a 24-trial sweep one index each, in a
    /// shuffled order; workers are killed with SIGKILL at random instants and restarted with
    /// the same index. Every trial ends once, identical to the sequential run, with nothing
    /// temporary left; SIGTERM on a task writes a checkpoint, exits 143, and the task run again
    /// resumes it to the same bits.
    @Test func killedWorkersRestartedWithTheirIndexFinishTheSweepIdentically() throws {
        guard let executable = loupeExecutable() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try writeTinyData(folder.appendingPathComponent("data"))
        let file = folder.appendingPathComponent("tiny.yaml")
        try tinySweep(data: folder.appendingPathComponent("data"), steps: 300, seeds: [0, 1, 2, 3, 4, 5]).write(to: file, atomically: true, encoding: .utf8)
        let sequential = folder.appendingPathComponent("sequential"), shared = folder.appendingPathComponent("shared")
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", sequential.path, "--quiet"], data: folder.path)
        #expect(status == 0, "\(output)")
        #expect(try ExperimentLayout(root: sequential).trialIDs().count == 24)

        var generator = RandomGenerator(seed: 1616, stream: 2)
        var order = Array(0..<24)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, generator.nextInt(below: i + 1)) }
        // Each index's first three launches: killed after a random delay (0-150 ms: start-up, data,
        // training or the end), killed once its metrics file holds a random number of rows (mid-
        // training; the run logs 61), or left alone.
        enum Kill { case after(ms: Int), atRow(Int), none }
        let plans: [[Kill]] = (0..<24).map { _ in
            (0..<3).map { _ in
                switch generator.nextInt(below: 10) {
                case 0..<4: return .after(ms: generator.nextInt(below: 150))
                case 4..<8: return .atRow(1 + generator.nextInt(below: 55))
                default: return .none
                }
            }
        }
        let ids = try Experiment.load(path: file.path).trials.map(\.id)
        let queue = WorkQueue(order)
        let tally = Tally()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            while let index = queue.next() {
                for attempt in 0... {
                    guard let process = try? launch(executable, ["run", file.path, "--out", shared.path, "--trial", String(index), "--quiet"]) else {
                        tally.note("trial \(index): could not start loupe")
                        break
                    }
                    switch attempt < 3 ? plans[index][attempt] : .none {
                    case let .after(ms):
                        Thread.sleep(forTimeInterval: Double(ms) / 1000)
                        kill(process.processIdentifier, SIGKILL)
                    case let .atRow(row):
                        let metrics = ExperimentLayout(root: shared).trial(ids[index]).metrics
                        while process.isRunning {
                            let rows = (try? String(contentsOf: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0
                            if rows > row {
                                kill(process.processIdentifier, SIGKILL)
                                break
                            }
                            Thread.sleep(forTimeInterval: 0.001)
                        }
                    case .none: break
                    }
                    process.waitUntilExit()
                    if process.terminationReason == .uncaughtSignal {
                        tally.killed()
                        continue
                    }
                    if process.terminationStatus != 0 { tally.note("trial \(index): exit \(process.terminationStatus)") }
                    break
                }
            }
        }
        #expect(tally.problems.isEmpty, "\(tally.problems)")
        print("SweepArrayTests: \(tally.kills) SIGKILLs landed over 24 trials")
        #expect(tally.kills >= 20, "only \(tally.kills) kills landed before their process ended")
        try expectSameTrials(sequential, shared, "4 killed workers")
        #expect(leftovers(under: shared).isEmpty, "\(leftovers(under: shared))")
        let (statusCode, statusOutput) = try runLoupe(executable, ["sweep", "status", shared.path], data: folder.path)
        #expect(statusCode == 0 && statusOutput.contains(/completed +24: 0-23/) && statusOutput.contains("All 24 trials are done"), "\(statusOutput)")

        // SIGTERM, as a scheduler's time limit or preemption sends it: a checkpoint, exit 143; the
        // status lists the trial to resubmit; the resubmitted task resumes to the same bits.
        let long = folder.appendingPathComponent("long.yaml")
        try tinySweep(data: folder.appendingPathComponent("data"), steps: 4000).write(to: long, atomically: true, encoding: .utf8)
        let reference = folder.appendingPathComponent("reference"), stopped = folder.appendingPathComponent("stopped")
        let (referenceStatus, referenceOutput) = try runLoupe(executable, ["run", long.path, "--out", reference.path, "--trial", "5", "--quiet"], data: folder.path)
        #expect(referenceStatus == 0, "\(referenceOutput)")
        let process = try start(executable, ["run", long.path, "--out", stopped.path, "--trial-from-env", "--quiet"], data: folder.path, environment: ["SLURM_ARRAY_TASK_ID": "5"])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && process.isRunning {
            let rows = (try? String(contentsOf: ExperimentLayout(root: stopped).trial(Experiment.load(path: long.path).trials[5].id).metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if rows > 20 { break }
            Thread.sleep(forTimeInterval: 0.005)
        }
        kill(process.processIdentifier, SIGTERM)
        let text = String(decoding: (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 143, "\(process.terminationStatus): \(text)")
        #expect(text.contains("--trial 5"), "\(text)")
        let id = try Experiment.load(path: long.path).trials[5].id
        let summary = try TrialSummary.read(ExperimentLayout(root: stopped).trial(id).summary)
        #expect(summary.status == .interrupted && summary.steps < 4000, "\(summary)")
        #expect(FileManager.default.fileExists(atPath: ExperimentLayout(root: stopped).trial(id).checkpoint.path))
        let (stoppedCode, stoppedStatus) = try runLoupe(executable, ["sweep", "status", stopped.path], data: folder.path)
        #expect(stoppedCode == 1 && stoppedStatus.contains(/stopped +1: 5\n/) && stoppedStatus.contains("--array=0-11"), "\(stoppedStatus)")
        let (resumed, resumedOutput) = try runLoupe(executable, ["run", long.path, "--out", stopped.path, "--trial", "5"], data: folder.path)
        #expect(resumed == 0 && resumedOutput.contains("(resumed at step \(summary.steps))"), "\(resumedOutput)")
        try expectSameTrials(reference, stopped, "SIGTERM then resubmitted")
    }

    /// `loupe trials` lists index, id and settings (text and JSON); with `--out`, each trial's
    /// status and the indices an added axis value moved. The exit codes: 2 for usage and
    /// configuration errors, 3 for a diverged trial, 75 for a trial another process is running.
    @Test func theListingTheStatusAndTheExitCodes() throws {
        guard let executable = loupeExecutable() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        try writeTinyData(data)
        let file = folder.appendingPathComponent("tiny.yaml")
        try tinySweep(data: data, steps: 20, seeds: [0]).write(to: file, atomically: true, encoding: .utf8)
        let experiment = try Experiment.load(path: file.path)
        let (listStatus, list) = try runLoupe(executable, ["trials", file.path], data: folder.path)
        #expect(listStatus == 0, "\(list)")
        for trial in experiment.trials {
            #expect(list.contains("\(trial.index)     \(trial.id)") && list.contains("optimizer.name=\(trial.config.optimizer.name) optimizer.lr="), "\(list)")
        }
        let (jsonStatus, json) = try runLoupe(executable, ["trials", file.path, "--json"], data: folder.path)
        #expect(jsonStatus == 0)
        let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        #expect(decoded?.map { $0["id"] as? String } == experiment.trials.map(\.id), "\(json)")
        #expect((decoded?[1]["settings"] as? [String: String])?["optimizer.lr"] == "1.0e-1")

        let out = folder.appendingPathComponent("out")
        #expect(try runLoupe(executable, ["run", file.path, "--out", out.path, "--shard", "0/2", "--quiet"], data: folder.path).status == 0)
        // Trials 0 and 2 ran; a new learning rate moves trial 2 (sgd 1.0e-2) from index 2 to index 3.
        let wider = folder.appendingPathComponent("wider.yaml")
        try tinySweep(data: data, steps: 20, seeds: [0], lrs: ["1.0e-2", "1.0e-1", "1.0"]).write(to: wider, atomically: true, encoding: .utf8)
        let (movedStatus, moved) = try runLoupe(executable, ["trials", wider.path, "--out", out.path], data: folder.path)
        let sgd = experiment.trials[2].id
        #expect(movedStatus == 0 && moved.contains("3     \(sgd)") && moved.contains("(was 2)") && moved.contains("1 trial has another index"), "\(moved)")
        #expect(moved.split(separator: "\n").filter { $0.contains("completed") }.count == 2, "\(moved)")

        // Usage and configuration errors: 2, and nothing written.
        for arguments in [["run", file.path, "--trial", "4", "--out", out.path], ["run", file.path, "--shard", "2/2"],
                          ["run", file.path, "--jobs", "many"], ["run", file.path, "--trial", "1", "--shard", "0/2"],
                          ["run", file.path, "--set", "train.steps=-1", "--trial", "1"], ["run", file.path, "--trial-from-env", "NO_SUCH_VARIABLE_X"]] {
            let (code, text) = try runLoupe(executable, arguments, data: folder.path)
            #expect(code == 2, "\(arguments): \(code) \(text)")
        }
        #expect(try ExperimentLayout(root: out).trialIDs().count == 2)
        // A trial another process is running: 75, its folder untouched.
        let lock = try TrialLock(id: experiment.trials[1].id, layout: ExperimentLayout(root: out))
        let (busy, busyOutput) = try runLoupe(executable, ["run", file.path, "--out", out.path, "--trial", "1"], data: folder.path)
        #expect(busy == 75 && busyOutput.contains("another process"), "\(busy): \(busyOutput)")
        #expect(!FileManager.default.fileExists(atPath: ExperimentLayout(root: out).trial(experiment.trials[1].id).root.path))
        let (runningCode, running) = try runLoupe(executable, ["sweep", "status", out.path], data: folder.path)
        #expect(runningCode == 1 && running.contains(/running +1: 1\n/) && running.contains("--array=3"), "\(running)")
        withExtendedLifetime(lock) {}
        // A diverged trial: 3, on every run of it.
        let diverging = folder.appendingPathComponent("diverging.yaml")
        try tinySweep(data: data, steps: 20, seeds: [0], lrs: ["1.0e30"]).write(to: diverging, atomically: true, encoding: .utf8)
        let divergedOut = folder.appendingPathComponent("diverged")
        let (diverged, divergedOutput) = try runLoupe(executable, ["run", diverging.path, "--out", divergedOut.path, "--trial", "1"], data: folder.path)
        #expect(diverged == 3 && divergedOutput.contains("diverged"), "\(diverged): \(divergedOutput)")
        #expect(try runLoupe(executable, ["run", diverging.path, "--out", divergedOut.path, "--trial", "1"], data: folder.path).status == 3)
    }
}

extension SweepArrayTests {
    /// A full disk is transient: the trial's write fails with ENOSPC, `loupe run --trial` exits 75
    /// (retry), and the retry on a disk with room (the same tmpfs, remounted larger) resumes and
    /// ends identical to a run that never ran out. Needs root to mount a tmpfs; skips otherwise.
    @Test func aFullDiskExits75AndTheRetryEndsTheSame() throws {
        guard let executable = loupeExecutable() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let disk = folder.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        func mount(_ arguments: [String]) -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/mount")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        guard mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs", disk.path]) else {
            print("skipped: cannot mount a tmpfs at \(disk.path) (needs root) to fill a disk")
            return
        }
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [disk.path]
            try? umount.run()
            umount.waitUntilExit()
        }
        try writeTinyData(folder.appendingPathComponent("data"))
        // 64 x 3000 dense weights: 770 KB, and a checkpoint with Adam's two slots three times that.
        let file = folder.appendingPathComponent("wide.yaml")
        try tinySweep(data: folder.appendingPathComponent("data"), steps: 30, seeds: [0])
            .replacingOccurrences(of: "units: 24", with: "units: 3000").write(to: file, atomically: true, encoding: .utf8)
        let reference = folder.appendingPathComponent("reference"), results = disk.appendingPathComponent("results")
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", reference.path, "--trial", "0", "--quiet"], data: folder.path)
        #expect(status == 0, "\(output)")
        let (full, fullOutput) = try runLoupe(executable, ["run", file.path, "--out", results.path, "--trial", "0"], data: folder.path)
        #expect(full == 75, "a full disk: \(full) \(fullOutput)")
        #expect(fullOutput.contains(String(cString: strerror(ENOSPC))), "\(fullOutput)")
        #expect(mount(["-o", "remount,size=64m", disk.path]))
        let (retried, retriedOutput) = try runLoupe(executable, ["run", file.path, "--out", results.path, "--trial", "0", "--quiet"], data: folder.path)
        #expect(retried == 0, "\(retriedOutput)")
        try expectSameTrials(reference, results, "after a full disk")
        #expect(leftovers(under: results).isEmpty, "\(leftovers(under: results))")
    }
}

/// Indices handed to worker threads, each once.
private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int]
    init(_ items: [Int]) { self.items = items.reversed() }
    func next() -> Int? { lock.withLock { items.popLast() } }
}

private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var messages: [String] = []
    func killed() { lock.withLock { count += 1 } }
    func note(_ message: String) { lock.withLock { messages.append(message) } }
    var kills: Int { lock.withLock { count } }
    var problems: [String] { lock.withLock { messages } }
}
