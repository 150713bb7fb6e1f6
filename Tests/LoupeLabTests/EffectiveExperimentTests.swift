import Foundation
import LoupeCore
import LoupeData
import LoupeLab
import Testing

/// The effective experiment: `--set` on a swept key, the record in the results folder, and
/// `--resume` refusing another experiment.
@Suite struct EffectiveExperimentTests {
    let seeded = smallExperiment.replacingOccurrences(of: "  optimizer.name: [adam, rmsprop]", with: "  optimizer.name: [adam, rmsprop]\n  seeds: [0, 1]")

    @Test func setOnASweptKeyReplacesThatAxisAndSaysSo() throws {
        let fixed = try Experiment.parse(text: seeded, path: "small.yaml", overrides: ["optimizer.name=sgd"])
        #expect(fixed.trials.count == 2)
        #expect(fixed.trials.allSatisfy { $0.config.optimizer.name == "sgd" && $0.settingsDictionary["optimizer.name"] == nil })
        #expect(fixed.notes == ["--set optimizer.name=sgd replaces the sweep's axis optimizer.name ([adam, rmsprop]): every trial has optimizer.name=sgd"])

        let listed = try Experiment.parse(text: seeded, path: "small.yaml", overrides: ["optimizer.name=[sgd, momentum]"])
        // Seed by seed (so added seeds append): each seed's trials in axis order.
        #expect(listed.trials.map { $0.config.optimizer.name } == ["sgd", "momentum", "sgd", "momentum"])
        #expect(listed.notes.first?.contains("replaces the values of the sweep's axis optimizer.name") == true)

        let seed = try Experiment.parse(text: seeded, path: "small.yaml", overrides: ["train.seed=7"])
        #expect(seed.trials.count == 2 && seed.trials.allSatisfy { $0.config.train.seed == 7 })
        #expect(seed.notes.first?.contains("axis seeds") == true)

        let plain = try Experiment.parse(text: seeded, path: "small.yaml", overrides: ["train.steps=5"])
        #expect(plain.notes.isEmpty && plain.trials.count == 4)
        #expect(plain.effective.flattened()["train.steps"] == "5")
    }

    @Test func resumeWithAnotherExperimentIsRefusedNamingTheKeys() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let layout = ExperimentLayout(root: folder)
        let first = try Experiment.parse(text: seeded, path: "small.yaml", overrides: ["optimizer.lr=1e-3"])
        try EffectiveExperiment(first, commandLine: ["loupe", "run", "small.yaml", "--set", "optimizer.lr=1e-3"], kernels: .automatic)
            .write(first, into: layout)
        // The same numbers spelled otherwise are the same experiment.
        let same = try Experiment.parse(text: seeded, path: "small.yaml", overrides: ["optimizer.lr=0.001"])
        try EffectiveExperiment(same, kernels: .automatic).checkResumable(in: layout)

        let other = try Experiment.parse(text: seeded, path: "small.yaml", overrides: ["optimizer.lr=0.01", "train.steps=60"])
        let runner = try ExperimentRunner(experiment: other, output: folder, resume: true,
                                          console: Console(quiet: true, interactive: false, write: { _ in }),
                                          catalog: DatasetCatalog(dataDirectory: folder.path))
        do {
            try runner.run()
            Issue.record("a resume with other settings ran")
        } catch let error as LoupeError {
            let message = "\(error)"
            #expect(message.contains("optimizer.lr: 1e-3 in the folder, 0.01 now"), "\(message)")
            #expect(message.contains("train.steps: 30 in the folder, 60 now"), "\(message)")
            #expect(message.contains("--set optimizer.lr=1e-3"), "\(message)")
        }
        #expect(try EffectiveExperiment.read(layout.effectiveExperimentFile).overrides == ["optimizer.lr=1e-3"], "the record is untouched")
    }

    /// A run records the effective experiment; the report shows it instead of the bare file.
    @Test func theResultsFolderRecordsTheExperimentAsRun() throws {
        guard let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let experiment = try Experiment.parse(text: smallExperiment, path: "small.yaml", overrides: ["train.steps=10", "optimizer.name=rmsprop"])
        let runner = try ExperimentRunner(experiment: experiment, output: folder, console: Console(quiet: true, interactive: false, write: { _ in }),
                                          catalog: DatasetCatalog(dataDirectory: root))
        try runner.run()
        let layout = ExperimentLayout(root: folder)
        let record = try EffectiveExperiment.read(layout.effectiveExperimentFile)
        #expect(record.overrides == ["train.steps=10", "optimizer.name=rmsprop"] && record.name == "small")
        #expect(record.settings["train.steps"] == "10" && record.settings["sweep.optimizer.name"] == nil)
        #expect(record.kernels == KernelPolicy.current.effective && record.threads == computeThreads && record.loupeVersion == LoupeVersion.current)
        #expect(record.fileText == smallExperiment)
        let yaml = try String(contentsOf: layout.experimentFile, encoding: .utf8)
        let reread = try Experiment.parse(text: yaml, path: layout.experimentFile.path)
        #expect(reread.trials.map(\.id) == experiment.trials.map(\.id), "experiment.yaml runs the same trials")
    }
}
