import Foundation
import LoupeCore
import LoupeData
import Testing
@testable import LoupeLab

/// TensorBoard's own Python code judges the event files: `Tests/Fixtures/tensorboard/judge.py`
/// run by the interpreter of a virtual environment with `tensorboard` installed, named by
/// `LOUPE_TENSORBOARD_PYTHON` (`scripts/test` creates `.venv-tensorboard/` and sets it).
func tensorBoardPython() -> String? {
    guard let python = ProcessInfo.processInfo.environment["LOUPE_TENSORBOARD_PYTHON"], !python.isEmpty else {
        print("skipped: LOUPE_TENSORBOARD_PYTHON is not set (scripts/test sets it when it could install tensorboard into .venv-tensorboard)")
        return nil
    }
    guard FileManager.default.isExecutableFile(atPath: python) else {
        print("skipped: LOUPE_TENSORBOARD_PYTHON=\(python) is not an executable")
        return nil
    }
    return python
}

private let judgeScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../Fixtures/tensorboard/judge.py").standardizedFileURL.path

/// Runs `judge.py arguments…` and returns its standard output; fails after `timeout` seconds.
private func judge(_ python: String, _ arguments: [String], timeout: Double = 120) throws -> (status: Int32, output: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [judgeScript] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    if done.wait(timeout: .now() + timeout) == .timedOut {
        process.terminate()
        throw LoupeError.invalidArgument(name: "judge.py \(arguments.first ?? "")", message: "took more than \(timeout) s")
    }
    return (process.terminationStatus, data)
}

private func json(_ data: Data) throws -> Any { try JSONSerialization.jsonObject(with: data) }

/// A JSON number, whichever type JSONSerialization gave it.
private func number(_ value: Any?) -> Double? {
    switch value {
    case let v as Double: return v
    case let v as Int: return Double(v)
    case let v as NSNumber: return v.doubleValue
    default: return nil
    }
}

/// A JSON list of lists of numbers.
private func rowsOfNumbers(_ value: Any?) -> [[Double]]? {
    guard let rows = value as? [Any] else { return nil }
    let converted = rows.map { ($0 as? [Any])?.compactMap(number) }
    return converted.contains { $0 == nil } ? nil : converted.map { $0! }
}

/// `{tag: [[numbers]]}`.
private func series(_ value: Any?) -> [String: [[Double]]] {
    (value as? [String: Any] ?? [:]).compactMapValues(rowsOfNumbers)
}

private var judgedRunFolder: URL { FileManager.default.temporaryDirectory.appendingPathComponent("loupe-tensorboard-judge-\(getpid())") }

/// Four trials (adam and rmsprop, seeds 0 and 1) of the small experiment with evaluations and
/// histograms every 10 steps, run once for all the judge's tests.
private let judgedRun: Result<URL, any Error>? = {
    guard let root = testDataRoot() else { return nil }
    return Result {
        let folder = judgedRunFolder
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: judgedRunFolder) }
        let text = tensorBoardExperiment.replacingOccurrences(of: "  optimizer.name: [adam]", with: "  optimizer.name: [adam, rmsprop]\n  seeds: [0, 1]")
        let experiment = try Experiment.parse(text: text, path: "judged.yaml")
        try ExperimentRunner(experiment: experiment, output: folder, jobs: 2,
                             console: Console(quiet: true, interactive: false, write: { _ in }),
                             catalog: DatasetCatalog(dataDirectory: root)).run()
        return folder
    }
}()

private func trialFolders(_ folder: URL) throws -> [URL] {
    try ExperimentLayout(root: folder).trialIDs().map { ExperimentLayout(root: folder).trial($0).root }
}

@Suite(.serialized) struct TensorBoardJudgeTests {
    @Test func maskedCRCsAgreeWithTensorBoards() throws {
        guard let python = tensorBoardPython() else { return }
        var generator = RandomGenerator(seed: 13)
        let inputs: [[UInt8]] = (0..<64).map { n in (0..<(n * 7 % 300)).map { _ in UInt8(truncatingIfNeeded: generator.nextUInt32()) } }
        let result = try judge(python, ["crc"] + inputs.map { $0.map { String(format: "%02x", $0) }.joined() })
        #expect(result.status == 0)
        let theirs = try json(result.output) as? [Int] ?? []
        #expect(theirs == inputs.map { Int(CRC32C.masked($0)) })
    }

    @Test func eventAccumulatorReadsBackEveryScalarHistogramAndImage() throws {
        guard let python = tensorBoardPython(), let run = judgedRun else { return }
        let folder = try run.get()
        let filterGrid = try FilterGrid(filters: Tensor.zeros([5, 5, 1, 8]))
        for trial in try trialFolders(folder) {
            let layout = TrialLayout(root: trial)
            let result = try judge(python, ["read", trial.path])
            #expect(result.status == 0)
            let read = try json(result.output) as! [String: Any]
            let scalars = series(read["scalars"]), histograms = series(read["histograms"]), images = series(read["images"])
            let tensors = read["tensors"] as? [String] ?? []
            let rows = try MetricRow.read(layout.metrics), evaluations = try EvaluationRow.read(layout.evaluations)
            let summary = try TrialSummary.read(layout.summary)
            // Scalars: the CSV's steps and values (float32 in both), wall times present.
            for (tag, column) in [("loss", \MetricRow.loss), ("accuracy", \MetricRow.accuracy), ("learning_rate", \MetricRow.learningRate)] {
                #expect(scalars[tag]?.map { Int($0[0]) } == rows.map(\.step), "\(tag) steps")
                #expect(scalars[tag]?.map { Float($0[1]) } == rows.map { Float($0[keyPath: column]) }, "\(tag) values")
                #expect(scalars[tag]?.allSatisfy { $0[2] > 1.7e9 } == true, "\(tag) wall times")
            }
            #expect(scalars["test_accuracy"]?.map { Int($0[0]) } == evaluations.map(\.step) + [30])
            #expect(scalars["test_accuracy"]?.map { Float($0[1]) } == (evaluations.map(\.testAccuracy) + [summary.testAccuracy!]).map { Float($0) })
            // Histograms: every weight and gradient, whole, and conv1's activations on 100 test images.
            let parameters = ["conv1.weight": 5 * 5 * 8, "conv1.bias": 8, "conv2.weight": 5 * 5 * 8 * 8, "conv2.bias": 8,
                              "fc1.weight": 7 * 7 * 8 * 64, "fc1.bias": 64, "fc2.weight": 640, "fc2.bias": 10]
            #expect(parameters.values.reduce(0, +) == summary.parameters)
            for (name, count) in parameters {
                for tag in [name, "gradients/\(name)"] {
                    #expect(histograms[tag]?.map { Int($0[0]) } == [10, 20, 30], "\(tag) steps")
                    #expect(histograms[tag]?.allSatisfy { Int($0[1]) == count && Int($0[4]) == count && $0[2] <= $0[3] } == true, "\(tag) counts")
                }
            }
            #expect(histograms["activations/conv1"]?.map { Int($0[1]) } == [100 * 28 * 28 * 8, 100 * 28 * 28 * 8, 100 * 28 * 28 * 8])
            let filters = images["filters/conv1.weight"] ?? []
            #expect(filters.map { Int($0[0]) } == [10, 20, 30])
            #expect(filters.allSatisfy { Int($0[1]) == filterGrid.image.width && Int($0[2]) == filterGrid.image.height && $0[3] > 100 },
                    "the filter grid's size, PNG-encoded")
            #expect(Set(tensors) == ["_hparams_/session_start_info", "_hparams_/session_end_info"])
        }
        let root = try judge(python, ["read", folder.path])
        #expect((try json(root.output) as! [String: Any])["tensors"] as? [String] == ["_hparams_/experiment"])
    }

    @Test func aFileCutAtAnyByteOfItsLastRecordReadsAsTheRecordsBefore() throws {
        guard let python = tensorBoardPython(), let run = judgedRun else { return }
        let file = TensorBoardLog.eventFiles(in: try trialFolders(try run.get())[0])[0]
        let result = try judge(python, ["truncations", file.path])
        #expect(result.status == 0)
        let read = try json(result.output) as! [String: Any]
        let records = read["records"] as! Int, counts = read["counts"] as! [String: Int]
        let bytes = [UInt8](try Data(contentsOf: file))
        #expect(records == (try EventFileReader(bytes: bytes, path: file.path).records.count))
        #expect(counts.count == (read["size"] as! Int) - (read["lastStart"] as! Int))
        #expect(counts.values.allSatisfy { $0 == records - 1 }, "TensorBoard reads every cut as the records before the last")
        for (cut, _) in counts.prefix(64) {
            #expect(try EventFileReader(bytes: Array(bytes[..<Int(cut)!]), path: "cut").records.count == records - 1)
        }
    }

    @Test func aTensorBoardServerServesScalarsAndListsEveryTrialAsASession() throws {
        guard let python = tensorBoardPython(), let run = judgedRun else { return }
        let folder = try run.get()
        let port = String(decoding: try judge(python, ["free-port"]).output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python)
        server.arguments = ["-m", "tensorboard.main", "--logdir", folder.path, "--host", "127.0.0.1", "--port", port]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            let deadline = Date().addingTimeInterval(10)
            while server.isRunning && Date() < deadline { usleep(100_000) }
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
        }
        let base = "http://127.0.0.1:\(port)/data/plugin/"
        /// The response once it parses and satisfies `ready`, polling for at most 60 s (the server loads the files in the background).
        func fetch(_ path: String, body: String? = nil, until ready: (Any) -> Bool = { _ in true }) throws -> Any? {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let result = try judge(python, ["http", base + path] + (body.map { [$0] } ?? []), timeout: 20)
                if result.status == 0, let value = try? json(result.output), ready(value) { return value }
                usleep(500_000)
            }
            Issue.record("\(path) did not answer as expected within 60 s")
            return nil
        }
        let trials = try trialFolders(folder)
        for trial in trials {
            let rows = try MetricRow.read(TrialLayout(root: trial).metrics)
            let loss = try fetch("scalars/scalars?run=trials/\(trial.lastPathComponent)&tag=loss") { rowsOfNumbers($0)?.count == rows.count }
            #expect(rowsOfNumbers(loss)?.map { Int($0[1]) } == rows.map(\.step))
            #expect(rowsOfNumbers(loss)?.map { Float($0[2]) } == rows.map { Float($0.loss) })
        }
        let experiment = try fetch("hparams/experiment", body: #"{"experimentName": ""}"#) as? [String: Any]
        let infos = experiment?["hparamInfos"] as? [[String: Any]] ?? []
        #expect(infos.map { $0["name"] as? String } == ["optimizer.name"], "the seed is not an hparam: it would differ within a group")
        #expect(infos.first?["domainDiscrete"] as? [String] == ["adam", "rmsprop"])
        let metrics = (experiment?["metricInfos"] as? [[String: Any]] ?? []).map { ($0["name"] as? [String: String])?["tag"] }
        #expect(metrics == ["test_accuracy", "loss", "accuracy"])

        let request = #"{"experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"], "colParams": [], "startIndex": 0, "sliceSize": 100}"#
        let groups = (try fetch("hparams/session_groups", body: request) as? [String: Any])?["sessionGroups"] as? [[String: Any]] ?? []
        #expect(groups.map { $0["name"] as? String }.sorted { ($0 ?? "") < ($1 ?? "") } == ["optimizer.name=adam", "optimizer.name=rmsprop"])
        var sessions: [String: [String: Any]] = [:]
        for group in groups {
            #expect((group["sessions"] as? [Any])?.count == 2, "two seeds per group")
            for session in group["sessions"] as? [[String: Any]] ?? [] { sessions[session["name"] as? String ?? ""] = session }
            let name = (group["hparams"] as? [String: String])?["optimizer.name"]
            #expect(name != nil && (group["name"] as? String) == "optimizer.name=\(name!)")
        }
        #expect(Set(sessions.keys) == Set(trials.map { "trials/\($0.lastPathComponent)" }))
        for trial in trials {
            let session = sessions["trials/\(trial.lastPathComponent)"]
            let summary = try TrialSummary.read(TrialLayout(root: trial).summary)
            #expect(session?["status"] as? String == "STATUS_SUCCESS")
            let values = (session?["metricValues"] as? [[String: Any]] ?? []).map { (($0["name"] as? [String: String])?["tag"] ?? "", number($0["value"]) ?? .nan) }
            let accuracy = values.first { $0.0 == "test_accuracy" }?.1
            #expect(accuracy.map(Float.init) == summary.testAccuracy.map(Float.init), "the final test accuracy is the session's metric")
        }
    }
}
