import LoupeLab
import Testing
@testable import LoupeInsight

/// Seed groups are trials equal in every setting but the seed, not only in the swept keys.
@Suite struct SeedGroupSettingsTests {
    func trial(_ id: String, lr: String, seed: String, steps: String = "100") -> TrialResult {
        let summary = TrialSummary(id: id, status: .completed, steps: 100, seconds: 1, testAccuracy: 0.5, parameters: 10,
                                   settings: ["optimizer.name": "rmsprop", "train.seed": seed])
        let config = ["optimizer.name": "rmsprop", "optimizer.lr": lr, "train.seed": seed, "train.steps": steps, "data.dataset": "mnist"]
        return TrialResult(id: id, summary: summary, metrics: [], firstLayer: nil, config: config)
    }

    @Test func trialsWithAnotherLearningRateAreAnotherGroup() {
        let trials = ExperimentResults.withEverySettingThatVaries([
            trial("a0", lr: "0.001", seed: "0"), trial("a1", lr: "0.001", seed: "1"),
            trial("b0", lr: "0.01", seed: "0"), trial("c0", lr: "0.01", seed: "1", steps: "50"),
        ])
        let groups = SeedGroup.groups(trials)
        #expect(groups.map(\.trialIDs).sorted { $0[0] < $1[0] } == [["a0", "a1"], ["b0"], ["c0"]])
        #expect(Tables.varyingKeys(trials) == ["optimizer.lr", "train.seed", "train.steps"])
        // Keys every trial shares add no column.
        #expect(trials.allSatisfy { $0.summary.settings["data.dataset"] == nil })
    }
}
