import LoupeCore
import LoupeLab
import Testing
@testable import LoupeInsight

/// The report's views of a sweep: curves per group (smoothed, mean and band over seeds) and
/// test accuracy against a numeric swept setting.
@Suite struct GroupChartTests {
    /// TensorBoard's debiased EMA, by hand for weight 0.6 and values 1, 0, 0:
    /// 0.4/0.4 = 1; (0.6·0.4)/(1 − 0.36) = 0.375; (0.6·0.24)/(1 − 0.216) = 0.144/0.784.
    @Test func smoothingIsTensorBoards() {
        let smoothed = GroupCurves.smoothed([1, 0, 0], weight: 0.6)
        let expected = [1, 0.375, 0.144 / 0.784]
        #expect(zip(smoothed, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(smoothed)")
        #expect(GroupCurves.smoothed([2, .nan, 2]).map { $0.isNaN ? -1 : $0 } == [2, -1, 2], "a NaN passes and does not enter the average")
    }

    @Test func aGroupIsItsMeanWithAMinMaxBandAtTheStepsAllSeedsLogged() {
        let (points, band) = GroupCurves.spread([[0: 1, 10: 3, 20: 5], [0: 3, 10: 1]])
        #expect(points == [.init(x: 0, y: 2), .init(x: 10, y: 2)])
        #expect(band == [.init(x: 0, low: 1, high: 3), .init(x: 10, low: 1, high: 3)])
    }

    func trial(_ name: String, lr: String, seed: String, accuracy: Double) -> TrialResult {
        let summary = TrialSummary(id: "\(name)-\(lr)-\(seed)", status: .completed, steps: 10, seconds: 1, testAccuracy: accuracy, parameters: 1,
                                   settings: ["optimizer.name": name, "optimizer.lr": lr, "train.seed": seed])
        return TrialResult(id: summary.id, summary: summary, metrics: [], firstLayer: nil)
    }

    @Test func testAccuracyAgainstTheLearningRateHasOneLinePerOptimizerWithErrorBars() throws {
        let trials = [trial("adam", lr: "1e-3", seed: "0", accuracy: 0.5), trial("adam", lr: "1e-3", seed: "1", accuracy: 0.7),
                      trial("adam", lr: "1e-1", seed: "0", accuracy: 0.1), trial("adam", lr: "1e-1", seed: "1", accuracy: 0.1),
                      trial("sgd", lr: "1e-3", seed: "0", accuracy: 0.2), trial("sgd", lr: "1e-1", seed: "0", accuracy: 0.4)]
        let charts = SweepAxisCharts.charts(trials, groups: SeedGroup.groups(trials))
        #expect(charts.map(\.key) == ["optimizer.lr"], "optimizer.name is not numeric")
        let chart = try #require(charts.first?.chart)
        #expect(chart.logarithmicX)
        #expect(chart.series.map(\.id) == ["optimizer.name=adam", "optimizer.name=sgd"])
        let adam = chart.series[0]
        #expect(adam.points.map(\.x) == [1e-3, 1e-1] && abs(adam.points[0].y - 0.6) < 1e-12 && adam.points[1].y == 0.1)
        // ± one sample standard deviation: (0.5, 0.7) → sd √0.02; two equal values → 0.
        let sd = 0.02.squareRoot()
        #expect(adam.errorBars.count == 2 && abs(adam.errorBars[0].high - (0.6 + sd)) < 1e-12 && abs(adam.errorBars[0].low - (0.6 - sd)) < 1e-12)
        #expect(adam.errorBars[1].low == 0.1 && adam.errorBars[1].high == 0.1)
        #expect(chart.series[1].errorBars.isEmpty, "one seed has no spread")
        #expect(chart.svg().contains("optimizer.lr (log scale)") && chart.svg().contains(#"class="error-bar""#))
    }
}

/// `reference:` values beside Loupe's mean ± sd over seeds.
@Suite struct ReferenceTests {
    @Test func aReferenceIsComparedInUnitsOfTheSeedSpread() throws {
        let node = try ConfigNode.parse(yaml: """
            - {optimizer.name: adam, optimizer.lr: 1e-3, test_accuracy: 0.55, source: paper}
            - {optimizer.name: sgd, test_accuracy: 0.3}
            """, file: "x.yaml")
        let references = try ReferenceResult.read(node)
        func trial(_ name: String, _ seed: String, _ accuracy: Double) -> TrialResult {
            let summary = TrialSummary(id: "\(name)-\(seed)", status: .completed, steps: 1, seconds: 1, testAccuracy: accuracy, parameters: 1,
                                       settings: ["optimizer.name": name, "optimizer.lr": "0.001", "train.seed": seed])
            return TrialResult(id: summary.id, summary: summary, metrics: [], firstLayer: nil)
        }
        let trials = [trial("adam", "0", 0.5), trial("adam", "1", 0.7), trial("sgd", "0", 0.2), trial("momentum", "0", 0.4)]
        let table = Tables.seeds(SeedGroup.groups(trials), trials: trials, references: references)
        let reference = try #require(table.columns.firstIndex { $0.title == "reference" })
        let rows = Dictionary(uniqueKeysWithValues: table.rows.map { ($0.cells[0], $0.cells) })
        // adam: mean 0.6, sd √0.02 ≈ 0.1414, (0.6 − 0.55) / 0.1414 ≈ +0.35.
        #expect(rows["adam"]?[reference] == "0.550 (paper)" && rows["adam"]?[reference + 1] == "+0.4", "\(String(describing: rows["adam"]))")
        #expect(rows["sgd"]?[reference + 1] == "-0.100 (no spread)")
        #expect(rows["momentum"]?[reference] == NumberFormat.missing)
        #expect(throws: LoupeError.self) { try ReferenceResult.read(try ConfigNode.parse(yaml: "- {optimizer.name: adam}", file: "x.yaml")) }
        // An experiment file with reference: runs the same trials as without.
        let with = try Experiment.parse(text: smallExperimentText + "\nreference:\n  - {optimizer.name: adam, test_accuracy: 0.5}\n", path: "s.yaml")
        let without = try Experiment.parse(text: smallExperimentText, path: "s.yaml")
        #expect(with.trials.map(\.id) == without.trials.map(\.id))
    }

    let smallExperimentText = """
        name: s
        data: {dataset: mnist}
        model: {builder: lenet}
        optimizer: {name: adam, lr: 1.0e-3}
        sweep: {optimizer.name: [adam, sgd]}
        """
}
