import Foundation
@testable import LoupeLab
import LoupeData
import Testing

/// The `loupe` executable built beside the test bundle.
func loupeExecutable() -> URL? {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [bundle.appendingPathComponent("loupe"), bundle.deletingLastPathComponent().appendingPathComponent("loupe")]
    where FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
    }
    print("skipped: the loupe executable is not built beside \(bundle.path)")
    return nil
}

/// Runs `loupe arguments` to completion; returns (status, standard output + error).
@discardableResult
func runLoupe(_ executable: URL, _ arguments: [String], data: String, environment extra: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let process = try start(executable, arguments, data: data, environment: extra)
    let output = process.standardOutput as! Pipe
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
}

func start(_ executable: URL, _ arguments: [String], data: String, environment extra: [String: String] = [:]) throws -> Process {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    environment["LOUPE_DATA"] = data
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    return process
}

private let sweep = smallExperiment.replacingOccurrences(of: "steps: 30, batch_size: 20, log_every: 5, checkpoint_every: 10",
                                                         with: "steps: 400, batch_size: 20, log_every: 20, checkpoint_every: 25")

@Suite(.serialized) struct CommandLineTests {
    @Test func brokenFilesRunNothingAndSayWhy() throws {
        guard let executable = loupeExecutable(), let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("bad.yaml")
        try smallExperiment.replacingOccurrences(of: "probes:", with: "probs:").write(to: file, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out")
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", out.path], data: root)
        #expect(status == 2, "a configuration error exits 2 (not worth retrying): \(output)")
        #expect(output.contains("probs") && output.contains("did you mean 'probes'") && output.contains("bad.yaml:"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let good = folder.appendingPathComponent("good.yaml")
        try smallExperiment.write(to: good, atomically: true, encoding: .utf8)
        let (typeStatus, typeOutput) = try runLoupe(executable, ["run", good.path, "--out", out.path, "--set", "train.steps=lots"], data: root)
        #expect(typeStatus == 2 && typeOutput.contains("train.steps") && typeOutput.contains("integer"), "\(typeOutput)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func aSweepEndToEndThenAReportAndTheRunsTable() throws {
        guard let executable = loupeExecutable(), let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("small.yaml")
        try smallExperiment.write(to: file, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out")
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", out.path, "--jobs", "2"], data: root)
        #expect(status == 0, "\(output)")
        #expect(output.contains("step 25, loss") && output.contains("train accuracy"), "\(output)")
        let ids = try ExperimentLayout(root: out).trialIDs()
        #expect(ids.count == 2)
        for id in ids { #expect(output.contains(id)) }
        let (reportStatus, reportOutput) = try runLoupe(executable, ["report", out.path], data: root)
        #expect(reportStatus == 0, "\(reportOutput)")
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        let markdown = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        for id in ids { #expect(html.contains(id) && markdown.contains(id)) }
        // Every image the Markdown report references exists.
        let references = markdown.matches(of: /\]\(([^)]+\.(?:png|svg))\)/).map { String($0.1) }
        #expect(!references.isEmpty)
        for reference in references {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(reference).path), "\(reference)")
        }
        let (runsStatus, table) = try runLoupe(executable, ["runs", out.path, "--where", "optimizer.name=rmsprop"], data: root)
        #expect(runsStatus == 0 && table.contains("rmsprop") && !table.contains("adam "), "\(table)")
        let (evalStatus, evalOutput) = try runLoupe(executable, ["eval", ExperimentLayout(root: out).trial(ids[0]).root.path], data: root)
        #expect(evalStatus == 0 && evalOutput.contains("test accuracy"), "\(evalOutput)")
    }

    @Test func killedThenResumedEndsBitIdenticalToAnUninterruptedRun() throws {
        guard let executable = loupeExecutable(), let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("sweep.yaml")
        try sweep.write(to: file, atomically: true, encoding: .utf8)
        let straight = folder.appendingPathComponent("straight"), interrupted = folder.appendingPathComponent("interrupted")
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", straight.path, "--quiet"], data: root)
        #expect(status == 0, "\(output)")

        // Start the same run, wait until a checkpoint exists, then kill -9.
        let process = try start(executable, ["run", file.path, "--out", interrupted.path, "--quiet"], data: root)
        let deadline = Date().addingTimeInterval(120)
        var sawCheckpoint = false
        while Date() < deadline && process.isRunning {
            let checkpoints = (try? FileManager.default.subpathsOfDirectory(atPath: interrupted.path))?.filter { $0.hasSuffix("/checkpoint.safetensors") } ?? []
            if !checkpoints.isEmpty {
                sawCheckpoint = true
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        Thread.sleep(forTimeInterval: 0.15)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(sawCheckpoint)
        #expect(process.terminationReason == .uncaughtSignal, "the run finished before it could be killed")
        // The kill leaves event files whose complete records all read (at most a last one cut short).
        for id in try ExperimentLayout(root: interrupted).trialIDs() {
            for url in TensorBoardLog.eventFiles(in: ExperimentLayout(root: interrupted).trial(id).root) {
                let read = try EventFileReader(url: url)
                #expect(read.records.allSatisfy { (try? EventSummary(record: $0, path: url.path)) != nil }, "\(url.path)")
            }
        }

        let (resumeStatus, resumeOutput) = try runLoupe(executable, ["run", file.path, "--out", interrupted.path, "--resume", "--quiet"], data: root)
        #expect(resumeStatus == 0, "\(resumeOutput)")
        let ids = try ExperimentLayout(root: straight).trialIDs()
        #expect(ids == (try ExperimentLayout(root: interrupted).trialIDs()))
        for id in ids {
            let a = ExperimentLayout(root: straight).trial(id), b = ExperimentLayout(root: interrupted).trial(id)
            #expect(try Data(contentsOf: a.weights) == Data(contentsOf: b.weights), "\(id) weights differ after resuming")
            #expect(try MetricRow.read(a.metrics).map { [$0.loss, $0.accuracy] } == MetricRow.read(b.metrics).map { [$0.loss, $0.accuracy] })
            // TensorBoard sees every step once, as in the uninterrupted run: one file, the same tags at the same steps.
            func tagSteps(_ layout: TrialLayout) throws -> [[String]] {
                try TensorBoardLog.eventFiles(in: layout.root).map { url in
                    try EventFileReader(url: url).records.map { try EventSummary(record: $0, path: url.path) }
                        .flatMap { event in event.tags.filter { !$0.hasPrefix("_hparams_/") }.map { "\($0)@\(event.step)" } }.sorted()
                }
            }
            let (straightEvents, resumedEvents) = (try tagSteps(a), try tagSteps(b))
            #expect(resumedEvents.count == 1 && resumedEvents == straightEvents, "\(id) events differ after resuming")
        }
    }

    /// SIGTERM (what SLURM and Kubernetes send before a kill): the running trial finishes its
    /// step, writes a checkpoint and is marked interrupted; the command says how to resume and
    /// exits 143; resuming ends bit-identical to an uninterrupted run.
    @Test func terminatedRunsCheckpointSayHowToResumeAndResumeBitIdentical() throws {
        guard let executable = loupeExecutable(), let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("sweep.yaml")
        try sweep.write(to: file, atomically: true, encoding: .utf8)
        let straight = folder.appendingPathComponent("straight"), stopped = folder.appendingPathComponent("stopped")
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", straight.path, "--quiet"], data: root)
        #expect(status == 0, "\(output)")

        let process = try start(executable, ["run", file.path, "--out", stopped.path, "--quiet"], data: root)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && process.isRunning {
            let started = (try? FileManager.default.subpathsOfDirectory(atPath: stopped.path))?.contains { $0.hasSuffix("/metrics.csv") } ?? false
            if started { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        Thread.sleep(forTimeInterval: 0.3)
        kill(process.processIdentifier, SIGTERM)
        let text = String(decoding: (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 143, "\(process.terminationStatus): \(text)")
        #expect(text.contains("--resume") && text.contains(stopped.path), "\(text)")
        let ids = try ExperimentLayout(root: stopped).trialIDs()
        let summaries = try ids.map { try TrialSummary.read(ExperimentLayout(root: stopped).trial($0).summary) }
        #expect(summaries.count == 1 && summaries[0].status == .interrupted, "\(summaries)")
        #expect(FileManager.default.fileExists(atPath: ExperimentLayout(root: stopped).trial(ids[0]).checkpoint.path))

        let (resumeStatus, resumeOutput) = try runLoupe(executable, ["run", file.path, "--out", stopped.path, "--resume", "--quiet"], data: root)
        #expect(resumeStatus == 0, "\(resumeOutput)")
        for id in try ExperimentLayout(root: straight).trialIDs() {
            let a = ExperimentLayout(root: straight).trial(id), b = ExperimentLayout(root: stopped).trial(id)
            #expect(try Data(contentsOf: a.weights) == Data(contentsOf: b.weights), "\(id) weights differ after resuming")
            #expect(try MetricRow.read(a.metrics).map { [$0.loss, $0.accuracy] } == MetricRow.read(b.metrics).map { [$0.loss, $0.accuracy] })
        }
    }

    /// `loupe data verify PATH` reads a folder as `loupe run` would and summarises it; the first
    /// bad file (a truncated PNG, class folders that differ) is named and the exit code is 1.
    @Test func dataVerifyReadsAPathAsTheTrainerDoes() throws {
        guard let executable = loupeExecutable() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("good")
        try writePNGFolder(good, split: "Train", classes: ["cat", "dog"], images: 3)
        try writePNGFolder(good, split: "Test", classes: ["cat", "dog"], images: 2)
        let (status, output) = try runLoupe(executable, ["data", "verify", good.path], data: folder.path)
        #expect(status == 0, "\(output)")
        for line in ["format folder", "Train: 6 images", "Test: 4 images", "2 classes", "4x4x1", "cat (3 train, 2 test)"] {
            #expect(output.contains(line), "\(line) in \(output)")
        }

        // A truncated PNG: named, with the reader's reason.
        let truncated = folder.appendingPathComponent("truncated")
        try writePNGFolder(truncated, split: "Train", classes: ["cat", "dog"])
        try writePNGFolder(truncated, split: "Test", classes: ["cat", "dog"])
        let broken = truncated.appendingPathComponent("Test/dog/1.png")
        try Data(try Data(contentsOf: broken).prefix(40)).write(to: broken)
        let (badStatus, badOutput) = try runLoupe(executable, ["data", "verify", truncated.path], data: folder.path)
        #expect(badStatus == 1, "\(badOutput)")
        #expect(badOutput.contains(broken.path + ": image 4"), "\(badOutput)")

        // Class folders that differ: both folders and the class named.
        let mismatched = folder.appendingPathComponent("mismatched")
        try writePNGFolder(mismatched, split: "Train", classes: ["cat", "dog"])
        try writePNGFolder(mismatched, split: "Test", classes: ["cat"])
        let (classStatus, classOutput) = try runLoupe(executable, ["data", "verify", mismatched.path], data: folder.path)
        #expect(classStatus == 1, "\(classOutput)")
        #expect(classOutput.contains(mismatched.appendingPathComponent("Test").path) && classOutput.contains("lacks dog"), "\(classOutput)")

        // IDX files are recognised by their names; a folder of neither format asks for --format.
        let idx = folder.appendingPathComponent("idx")
        try FileManager.default.createDirectory(at: idx, withIntermediateDirectories: true)
        for (prefix, count) in [("train", 3), ("t10k", 2)] {
            let header: [UInt8] = [0, 0, 8, 3, 0, 0, 0, UInt8(count), 0, 0, 0, 2, 0, 0, 0, 2]
            try Data(header + [UInt8](repeating: 9, count: 4 * count)).write(to: idx.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
            try Data([0, 0, 8, 1, 0, 0, 0, UInt8(count)] + (0..<count).map { UInt8($0) }).write(to: idx.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
        }
        let (idxStatus, idxOutput) = try runLoupe(executable, ["data", "verify", idx.path], data: folder.path)
        #expect(idxStatus == 0 && idxOutput.contains("format idx") && idxOutput.contains("Train: 3 images"), "\(idxOutput)")
        let (cifarStatus, cifarOutput) = try runLoupe(executable, ["data", "verify", idx.path, "--format", "cifar10"], data: folder.path)
        #expect(cifarStatus == 1 && cifarOutput.contains("data_batch_1.bin"), "\(cifarOutput)")
        let (unknownStatus, unknownOutput) = try runLoupe(executable, ["data", "verify", good.appendingPathComponent("Train").path], data: folder.path)
        #expect(unknownStatus == 1 && unknownOutput.contains("--format"), "\(unknownOutput)")
    }

    /// A catalog name: its files' sums, then the same read and summary.
    @Test func dataVerifyOfACatalogNameReadsItToo() throws {
        guard let executable = loupeExecutable(), let root = testDataRoot() else { return }
        let (status, output) = try runLoupe(executable, ["data", "verify", "cifar10-gray28"], data: root)
        #expect(status == 0, "\(output)")
        #expect(output.contains("Train: 10000 images") && output.contains("Test: 1000 images") && output.contains("airplane (1000 train, 100 test)"), "\(output)")
    }
}
