import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LoupeCore
import LoupeData
import LoupeLab
import Testing
@testable import LoupeInsight

/// The report's figures per group of seeds and over the sweep, on the synthetic experiment.
@Suite struct GroupFigureTests {
    func content(_ experiment: SyntheticExperiment) throws -> ReportContent {
        try ReportContent(ExperimentResults.read(experiment.root), options: ReportOptions())
    }

    func parses(_ svg: String) -> Bool { XMLParser(data: Data(svg.utf8)).parse() }

    @Test func confusionMatricesSumTheSeedsWithTheirClassNames() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let content = try content(experiment)
        // The adam group (best first) and copy-s0 (adam-s1's copy) recorded matrices; the other
        // evaluated group (long-s0) is named.
        #expect(content.confusions.count == 2)
        let adam = try #require(content.confusions.first)
        #expect(adam.trials == 3 && adam.classNames == SyntheticExperiment.classNames, "the names adam-s1 recorded")
        // Seeds 0–2 put 100, 200 and 300 cats among the dogs: 600 in all, 2,400 cats right.
        #expect(adam.counts == [[2400, 600, 0], [600, 2400, 0], [0, 0, 3000]])
        #expect(content.groupsWithoutConfusion.count == 1 && content.groupsWithoutConfusion[0].contains("train.steps=5000"), "\(content.groupsWithoutConfusion)")
        let svg = adam.svg(identifier: "c")
        #expect(parses(svg))
        #expect(svg.contains(">cat</text>") && svg.contains("true cat, predicted dog: 600 (20% of the row)"))
        #expect(svg.contains("accuracy 0.867"), "7,800 of 9,000 right")
        // Without recorded names, a catalog dataset's names; else the class numbers.
        var trial = try #require(try ExperimentResults.read(experiment.root).trials.first { $0.id == "adam-s0" })
        #expect(GroupConfusion.classNames(of: [trial], count: 3) == ["0", "1", "2"])
        trial.config["data.dataset"] = "cifar10"
        #expect(GroupConfusion.classNames(of: [trial], count: 10).prefix(2) == ["airplane", "automobile"])
    }

    @Test func speedIsTimePerStepAndExamplesPerSecondPerGroup() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let content = try content(experiment)
        let titles = content.speed.columns.map(\.title)
        let row = try #require(content.speed.rows.first { $0.cells[titles.firstIndex(of: "optimizer.name")!] == "adam" && $0.cells[titles.firstIndex(of: "train.steps")!] == "300" && $0.cells[titles.firstIndex(of: "optimizer.lr")!] == "0.001" })
        func cell(_ title: String) -> String { row.cells[titles.firstIndex(of: title)!] }
        // 30 s over 300 steps for each seed: 100 ms a step; a batch of 50 makes 500 examples/s.
        #expect(cell("ms/step") == "100 ± 0" || cell("ms/step").hasPrefix("100"), "\(cell("ms/step"))")
        #expect(cell("examples/s") == "500" && cell("batch") == "50" && cell("trials") == "3")
        // metrics.csv logs a row every 10 steps, 1 s apart: 100 ms per step all along.
        let trial = try #require(try ExperimentResults.read(experiment.root).trials.first { $0.id == "adam-s1" })
        let times = SpeedFigures.stepTimes(trial)
        #expect(times.count == 29 && times.values.allSatisfy { abs($0 - 100) < 1e-9 })
        #expect(parses(content.speedChart))
    }

    @Test func filtersBeforeAndAfterEachOnItsOwnAndOnTheGroupsScale() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let content = try content(experiment)
        let adam = try #require(content.filters.first { $0.grids.contains { $0.trialID == "adam-s0" } })
        #expect(adam.grids.map(\.trialID) == [nil, "adam-s0", "adam-s1", "adam-s2"], "before (seed 0), then each seed after")
        #expect(adam.grids[0].caption.hasPrefix("before training (seed 0, step 0)"))
        #expect(adam.grids[0].fileName == "filters-adam-s0-initial.png")
        // The shared scale is the group's largest |weight| (its trained filters: |sin| up to 1).
        let trained = try (0..<3).map { try SyntheticExperiment.filters(seed: Float($0)) }
        #expect(adam.limit == FilterGrid.sharedLimit(trained))
        // On it the initial filters (a tenth of the trained ones) stay near mid gray; each on its
        // own scale they span black to white like the trained ones.
        let initialShared = try PNG.decode(adam.grids[0].shared), initialOwn = try PNG.decode(adam.grids[0].own)
        let afterShared = try PNG.decode(adam.grids[1].shared)
        func span(_ image: PNGImage) -> Int {
            // Tile pixels only: the separators are white.
            let tile = (0..<30).flatMap { y in (0..<30).map { x in Int(image.pixels[(2 + y) * image.width + 2 + x]) } }
            return tile.max()! - tile.min()!
        }
        #expect(span(initialOwn) > 200 && span(afterShared) > 150)
        #expect(span(initialShared) < 60, "\(span(initialShared))")
        // The page: both drawings of each grid, the toggle, and trial anchors on the trained ones.
        let page = try String(contentsOf: Report.write(experiment: experiment.root).html, encoding: .utf8)
        #expect(page.contains(#"id="shared-scale""#) && page.contains(#"<figure id="trial-adam-s1"><img class="own""#))
        #expect(page.components(separatedBy: #"<img class="shared""#).count - 1 == content.filters.flatMap(\.grids).count)
    }

    @Test func parallelCoordinatesDrawATrialPerLineEndingAtItsAccuracy() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let svg = try #require(try content(experiment).parallelCoordinates)
        #expect(parses(svg))
        // An axis per varying setting but the seed, and test accuracy.
        for axis in ["optimizer.lr", "optimizer.name", "train.steps", "test accuracy"] { #expect(svg.contains(">\(axis)</text>"), "\(axis)") }
        #expect(!svg.contains(">train.seed</text>"))
        let lines = svg.components(separatedBy: "<path d=\"M").dropFirst()
        #expect(lines.count == SyntheticExperiment.allIDs.count)
        // Trials without an accuracy end at "none", dashed; the best is drawn last (on top), yellow.
        let withoutAccuracy = lines.filter { $0.contains("stroke-dasharray") }
        #expect(withoutAccuracy.count == 2 && withoutAccuracy.allSatisfy { $0.contains("#d62728") } && svg.contains(">none</text>"))
        #expect(lines.last?.contains("adam-s2: test accuracy 0.440") == true && lines.last?.contains(ColourMap.viridisHex(1)) == true)
        // Numbers in numeric order, 1e-3 below 0.01 below 1 on the lr axis, though as text
        // "1e-3" sorts last.
        let trials = try ExperimentResults.read(experiment.root).trials.map { trial in
            var trial = trial
            if trial.summary.settings["optimizer.lr"] == "0.001" { trial.summary.settings["optimizer.lr"] = "1e-3" }
            return trial
        }
        let numeric = try #require(ParallelCoordinates.svg(trials))
        func y(_ label: String) throws -> Double {
            let before = try #require(numeric.components(separatedBy: ">\(label)</text>").first?.components(separatedBy: " y=\"").last)
            return try #require(Double(before.prefix { $0 != "\"" }))
        }
        #expect(try y("1e-3") > y("0.01") && y("0.01") > y("1"))
    }

    @Test func aSingleTrialHasNoParallelCoordinates() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        for id in SyntheticExperiment.allIDs.dropFirst() { try FileManager.default.removeItem(at: ExperimentLayout(root: experiment.root).trial(id).root) }
        #expect(try content(experiment).parallelCoordinates == nil)
    }
}
