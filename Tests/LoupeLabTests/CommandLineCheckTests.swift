import Foundation
@testable import LoupeLab
import LoupeData
import Testing

/// What the command checks before it prints its header or writes a file, and how it talks:
/// no framework error dumps, no library API names, suggestions for typos.
@Suite(.serialized) struct CommandLineCheckTests {
    /// Raw framework or API text that must never reach a user.
    func expectPlainMessage(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for raw in ["NSCocoaErrorDomain", "Error Domain=", "DatasetCatalog", "NSError", "UserInfo"] {
            #expect(!output.contains(raw), "\(raw) in \(output)", sourceLocation: sourceLocation)
        }
    }

    @Test func mistakesAreReportedBeforeTheHeaderAndNothingIsWritten() throws {
        guard let executable = loupeExecutable(), let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("small.yaml")
        try smallExperiment.write(to: file, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out")
        let cases: [(arguments: [String], expected: [String])] = [
            (["--set", "data.dataset=cifar10-gray82"], ["data.dataset", "unknown dataset 'cifar10-gray82'", "did you mean 'cifar10-gray28'"]),
            (["--set", "probes.activations=[conv1, conv3]"], ["probes.activations", "no layer named 'conv3'", "did you mean"]),
            (["--set", "data.sequence=rows"], ["model"]),
            (["--jobs", "-1"], ["--jobs", "at least 1, got -1"]),
            (["--jobs", "0"], ["--jobs", "got 0"]),
        ]
        for (arguments, expected) in cases {
            let (status, output) = try runLoupe(executable, ["run", file.path, "--out", out.path] + arguments, data: root)
            #expect(status == 2, "\(arguments): \(output)")
            for text in expected { #expect(output.contains(text), "\(arguments): '\(text)' not in \(output)") }
            #expect(!output.contains("trials →"), "\(arguments): the header was printed before the error: \(output)")
            #expect(!FileManager.default.fileExists(atPath: out.path), "\(arguments) wrote \(out.path)")
            expectPlainMessage(output)
        }
        // --out naming an existing file.
        let existing = folder.appendingPathComponent("notes.txt")
        try Data("mine".utf8).write(to: existing)
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", existing.path], data: root)
        #expect(status == 2 && output.contains("--out") && output.contains("is a file"), "\(output)")
        #expect(try String(contentsOf: existing, encoding: .utf8) == "mine")
        expectPlainMessage(output)
        // A missing experiment file, and a dataset that is not installed.
        let (missingStatus, missing) = try runLoupe(executable, ["run", folder.appendingPathComponent("nope.yaml").path], data: root)
        #expect(missingStatus == 2 && missing.contains("nope.yaml: does not exist"), "\(missing)")
        expectPlainMessage(missing)
        let (absentStatus, absent) = try runLoupe(executable, ["run", file.path, "--out", out.path, "--set", "data.dataset=mnist"],
                                                  data: folder.path)
        #expect(absentStatus == 2 && absent.contains("loupe data get mnist"), "\(absent)")
        expectPlainMessage(absent)
    }

    @Test func commandsSuggestTheirNamesAndSayTheirVersion() throws {
        guard let executable = loupeExecutable() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (status, output) = try runLoupe(executable, ["rnu", "x.yaml"], data: folder.path)
        #expect(status == 2 && output.contains("did you mean 'loupe run'?"), "\(output)")
        let (dataStatus, data) = try runLoupe(executable, ["data", "gte", "mnist"], data: folder.path)
        #expect(dataStatus == 2 && data.contains("did you mean 'loupe data get'?"), "\(data)")
        let (versionStatus, version) = try runLoupe(executable, ["--version"], data: folder.path)
        #expect(versionStatus == 0 && version.trimmingCharacters(in: .whitespacesAndNewlines) == LoupeVersion.current, "\(version)")
        for command in ["get", "verify"] {
            let (_, help) = try runLoupe(executable, ["data", command, "--help"], data: folder.path)
            for name in DatasetCatalog.standardEntries.map(\.name) { #expect(help.contains(name), "data \(command) --help lacks \(name): \(help)") }
        }
        let (getStatus, get) = try runLoupe(executable, ["data", "get", "fashion-mnst"], data: folder.path)
        #expect(getStatus == 1 && get.contains("did you mean 'fashion-mnist'?"), "\(get)")
        expectPlainMessage(get)
    }

    /// The folder records the experiment as run; a resume with other settings is refused naming
    /// them; `--set` on a swept key says it replaces the axis; the report shows it all and
    /// goes where `--out` says.
    @Test func theEffectiveExperimentFromRunToReport() throws {
        guard let executable = loupeExecutable(), let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("small.yaml")
        try smallExperiment.write(to: file, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out")
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", out.path, "--quiet", "--set", "train.steps=10",
                                                         "--set", "optimizer.name=sgd"], data: root)
        #expect(status == 0, "\(output)")
        #expect(output.contains("note: --set optimizer.name=sgd replaces the sweep's axis optimizer.name ([adam, rmsprop])"), "\(output)")
        #expect(try ExperimentLayout(root: out).trialIDs().count == 1)

        let (resumeStatus, resume) = try runLoupe(executable, ["run", file.path, "--out", out.path, "--resume", "--set", "train.steps=20"], data: root)
        #expect(resumeStatus == 2, "\(resume)")
        #expect(resume.contains("train.steps: 10 in the folder, 20 now") && resume.contains("optimizer.name"), "\(resume)")
        #expect(try ExperimentLayout(root: out).trialIDs().count == 1, "the refused resume added a trial")

        let page = folder.appendingPathComponent("pages/sgd.html")
        try FileManager.default.createDirectory(at: page.deletingLastPathComponent(), withIntermediateDirectories: true)
        let (reportStatus, report) = try runLoupe(executable, ["report", out.path, "--out", page.path], data: root)
        #expect(reportStatus == 0, "\(report)")
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(html.contains("<h1>Loupe report: small</h1>"))
        #expect(html.contains("--set train.steps=10 --set optimizer.name=sgd") && html.contains("Loupe version"), "provenance")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("pages/sgd.md").path))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
        let (fileStatus, onFile) = try runLoupe(executable, ["report", out.path, "--out", file.path], data: root)
        #expect(fileStatus == 1 && onFile.contains("--out") && onFile.contains("is a file"), "\(onFile)")
        expectPlainMessage(onFile)
    }

    /// `loupe runs` reads trial folders: JSON, CSV, sorting, columns, numeric --where, unknown
    /// keys suggested, a running trial's last step; `loupe eval` takes a whole results folder.
    @Test func runsAndEvalAsUsersQueryThem() throws {
        guard let executable = loupeExecutable(), let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("lr.yaml")
        try smallExperiment.replacingOccurrences(of: "  optimizer.name: [adam, rmsprop]", with: "  optimizer.lr: [1.0e-3, 3.0e-3]")
            .replacingOccurrences(of: "steps: 30,", with: "steps: 10,").write(to: file, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out")
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", out.path, "--quiet"], data: root)
        #expect(status == 0, "\(output)")
        let layout = ExperimentLayout(root: out)
        let ids = try layout.trialIDs()
        let low = try #require(ids.first { $0.contains("1.0e-3") }), high = try #require(ids.first { $0.contains("3.0e-3") })

        func csvRows(_ arguments: [String]) throws -> [String] {
            let (status, text) = try runLoupe(executable, ["runs", out.path, "--csv"] + arguments, data: root)
            #expect(status == 0, "\(arguments): \(text)")
            return text.split(separator: "\n").map(String.init)
        }
        #expect(try csvRows(["--columns", "id,optimizer.lr", "--where", "optimizer.lr=1e-3"]) == ["id,optimizer.lr", "\(low),1.0e-3"])
        #expect(try csvRows(["--columns", "id", "--where", "optimizer.lr<2e-3"]) == ["id", low])
        #expect(try csvRows(["--columns", "id", "--where", "optimizer.lr>=0.001", "--sort", "optimizer.lr:desc"]) == ["id", high, low])
        #expect(try csvRows(["--columns", "id", "--where", "optimizer.lr>0.001", "--where", "status=completed"]) == ["id", high])

        let (typoStatus, typo) = try runLoupe(executable, ["runs", out.path, "--where", "optimizer.rl=1e-3"], data: root)
        #expect(typoStatus == 1 && typo.contains("did you mean 'optimizer.lr'?"), "\(typo)")
        let (sortStatus, badSort) = try runLoupe(executable, ["runs", out.path, "--sort", "test_acc"], data: root)
        #expect(sortStatus == 1 && badSort.contains("--sort") && badSort.contains("did you mean 'test_accuracy'?"), "\(badSort)")

        // A trial still running shows the last step it logged.
        var running = try TrialSummary.read(layout.trial(low).summary)
        running.status = .running
        running.steps = 0
        try running.write(to: layout.trial(low).summary)
        let (_, table) = try runLoupe(executable, ["runs", out.path], data: root)
        #expect(table.contains("flags") && table.contains("optimizer.lr") && table.contains("conv1.act_mean") && table.contains("conv2.act_var"), "\(table)")
        #expect(try csvRows(["--columns", "id,conv1.act_mean", "--where", "conv1.act_mean>0"]).count == 3)
        // A narrow terminal (COLUMNS, as output to a pipe has no terminal) gets a table that fits.
        let (_, narrowTable) = try runLoupe(executable, ["runs", out.path], data: root, environment: ["COLUMNS": "72"])
        #expect(narrowTable.split(separator: "\n").allSatisfy { $0.count <= 72 } && narrowTable.contains("more columns than fit 72"), "\(narrowTable)")
        let line = try #require(table.split(separator: "\n").first { $0.hasPrefix(low) })
        #expect(line.contains("running") && line.contains("  10  "), "\(line)")

        let (jsonStatus, json) = try runLoupe(executable, ["runs", out.path, "--json"], data: root)
        #expect(jsonStatus == 0)
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(objects.count == 2 && objects.allSatisfy { $0["folder"] as? String == out.path && $0["summary"] is [String: Any] })
        #expect(objects.contains { $0["last_step"] as? Int == 10 && ($0["summary"] as? [String: Any])?["status"] as? String == "running" })

        let (evalStatus, evaluation) = try runLoupe(executable, ["eval", out.path], data: root)
        #expect(evalStatus == 0, "\(evaluation)")
        for text in [low, high, "loss", "per class:", "airplane", "confusion (rows: true class"] { #expect(evaluation.contains(text), "\(text) in \(evaluation)") }
        let (evalJSONStatus, evalJSON) = try runLoupe(executable, ["eval", out.path, "--json"], data: root)
        #expect(evalJSONStatus == 0)
        let results = try #require(try JSONSerialization.jsonObject(with: Data(evalJSON.utf8)) as? [[String: Any]])
        #expect(results.count == 2)
        let first = try #require(results.first?["evaluation"] as? [String: Any])
        let confusion = try #require(first["confusion"] as? [[Int]])
        #expect(confusion.count == 10 && confusion.joined().reduce(0, +) == 1000)
        let classes = try #require(first["classes"] as? [[String: Any]])
        #expect(classes.first?["name"] as? String == "airplane" && first["loss"] is Double)
        // The evaluation agrees with the accuracy the run recorded.
        let summary = try TrialSummary.read(layout.trial(results[0]["trial"] as! String).summary)
        if let recorded = summary.testAccuracy { #expect(abs((first["accuracy"] as? Double ?? -1) - recorded) < 1e-12) }
    }
}
