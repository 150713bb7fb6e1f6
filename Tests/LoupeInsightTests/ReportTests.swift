import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@_spi(FaultInjection) import LoupeCore
import LoupeData
import LoupeLab
import Testing
@testable import LoupeInsight

/// The Markdown results table's cells for the row of `trialID`, keyed by column title.
private func resultsRow(_ markdown: String, _ trialID: String) -> [String: String]? {
    let section = markdown.components(separatedBy: "## Results")[1].components(separatedBy: "## Mean")[0]
    let rows = section.split(separator: "\n").filter { $0.hasPrefix("|") }
    func cells(_ line: Substring) -> [String] {
        // Cells are separated by " | "; an escaped "\|" inside a cell is not a separator.
        line.dropFirst(2).dropLast(2).replacingOccurrences(of: "\\|", with: "\u{1}")
            .components(separatedBy: " | ").map { $0.replacingOccurrences(of: "\u{1}", with: "|") }
    }
    guard let header = rows.first.map(cells),
          let row = rows.dropFirst(2).map(cells).first(where: { $0.first == Markdown.escape(trialID) }) else { return nil }
    return Dictionary(uniqueKeysWithValues: zip(header, row))
}

@Suite struct ReportTests {
    @Test func htmlAndMarkdownShowEveryTrial() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let (html, markdown) = try Report.write(experiment: experiment.root)
        #expect(html == experiment.root.appendingPathComponent("report.html"))
        #expect(markdown == experiment.root.appendingPathComponent("report.md"))
        let page = try String(contentsOf: html, encoding: .utf8), text = try String(contentsOf: markdown, encoding: .utf8)
        for id in SyntheticExperiment.allIDs {
            #expect(page.replacingOccurrences(of: "<wbr>", with: "").contains(">\(id)<"), "HTML lacks trial \(id)")
            #expect(resultsRow(text, id) != nil, "Markdown results table lacks trial \(id)")
        }
        // The experiment file, verbatim and escaped.
        #expect(page.contains("name: synthetic # a &lt;test&gt; &amp; &quot;quotes&quot;"))
        #expect(text.contains("```yaml\n" + SyntheticExperiment.yaml + "```"))
    }

    @Test func htmlIsSelfContained() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let page = try String(contentsOf: Report.write(experiment: experiment.root).html, encoding: .utf8)
        let sources = page.components(separatedBy: " src=\"").dropFirst().map { $0.prefix(while: { $0 != "\"" }) }
        // One filter grid per trial that has weights (all but the failed one) and adam-s0's
        // initial filters, each drawn on its own scale and on its group's.
        #expect(sources.count == 2 * SyntheticExperiment.allIDs.count)
        for source in sources {
            #expect(source.hasPrefix("data:image/png;base64,"))
            let bytes = try #require(Data(base64Encoded: String(source.dropFirst("data:image/png;base64,".count))))
            #expect(try PNG.decode([UInt8](bytes)).width == 258)
        }
        // Inline JavaScript sorts the tables; nothing is fetched.
        #expect(!page.contains("<link") && !page.contains("<script src") && !page.contains("report/"))
        #expect(page.contains("<script>") && page.contains(#"<table class="sortable">"#))
        let axes = try ReportContent(ExperimentResults.read(experiment.root), options: ReportOptions()).axisCharts.count
        #expect(page.components(separatedBy: "<svg ").count == 1 + 4 + axes + 4,
                "four inline curve charts, one per numeric swept setting, parallel coordinates, speed, the confusion matrices of adam and its copy")
    }

    @Test func markdownImagesExistAndFilterGridsDecode() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let text = try String(contentsOf: Report.write(experiment: experiment.root).markdown, encoding: .utf8)
        let links = text.components(separatedBy: "](").dropFirst().map { String($0.prefix(while: { $0 != ")" })) }
        let axes = try ReportContent(ExperimentResults.read(experiment.root), options: ReportOptions()).axisCharts.count
        #expect(links.count == 4 + axes + 4 + SyntheticExperiment.allIDs.count,
                "four curve charts, one per numeric axis, parallel coordinates, speed, two confusion matrices, a filter grid per trial with weights and adam-s0's initial one")
        for link in links {
            #expect(link.hasPrefix("report/"), "\(link) is not in report/")
            let file = experiment.root.appendingPathComponent(link.removingPercentEncoding ?? link)
            #expect(FileManager.default.fileExists(atPath: file.path), "\(link) is referenced but missing")
        }
        for id in SyntheticExperiment.allIDs where id != "broken-s0" {
            #expect(links.contains("report/filters-\(id).png"))
            // 32 filters of 5×5 enlarged ×6 in 4 rows × 8 columns, 2 px separators around each tile:
            // 8·30 + 9·2 = 258 wide, 4·30 + 5·2 = 130 high, gray.
            let image = try PNG.decode(fileAt: experiment.root.appendingPathComponent("report/filters-\(id).png").path)
            #expect((image.width, image.height, image.channels) == (258, 130, 1))
        }
    }

    @Test func flagsAppearOnlyWhereDue() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let text = try String(contentsOf: Report.write(experiment: experiment.root).markdown, encoding: .utf8)
        let page = try String(contentsOf: experiment.root.appendingPathComponent("report.html"), encoding: .utf8)
        func flags(_ id: String) -> String { resultsRow(text, id)?["flags"] ?? "<no row>" }
        #expect(flags("sgd-s0").contains("diverged at step 120"))
        #expect(resultsRow(text, "sgd-s0")?["status"] == "diverged at step 120")
        #expect(flags("long-s0").contains("overfitting: gap 0.550 (train 0.970, test 0.420)"))
        #expect(flags("copy-s0").contains("identical to adam-s1"))
        #expect(flags("adam-s1").contains("identical to copy-s0"))
        #expect(flags("broken-s0").contains("failed: dataset cifar10-gray28 not found"))
        for id in ["adam-s0", "adam-s2"] { #expect(flags(id) == "", "\(id) is flagged: \(flags(id))") }
        #expect(page.contains("overfitting: gap 0.550") && page.contains("identical to adam-s1"))
    }

    @Test func resultsAreSortedByTestAccuracyWithDivergedAndFailedLast() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let trials = try ExperimentResults.read(experiment.root).trials
        // adam-s1, copy-s0 and long-s0 tie at 0.42: by id.
        #expect(Tables.ordered(trials).map(\.id) == ["adam-s2", "adam-s1", "copy-s0", "long-s0", "adam-s0", "sgd-s0", "broken-s0"])
        let table = Tables.results(trials, flags: [:])
        // train.seed, train.steps and optimizer.* vary; the table shows all four.
        #expect(table.columns.map(\.title).prefix(5) == ["trial", "optimizer.lr", "optimizer.name", "train.seed", "train.steps"])
        #expect(table.columns.map(\.title).contains("conv2 act. var"))
    }

    @Test func meanAndSpreadAcrossSeeds() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let groups = SeedGroup.groups(try ExperimentResults.read(experiment.root).trials)
        let adam = try #require(groups.first { $0.settings["optimizer.lr"] == "0.001" && $0.settings["train.steps"] == "300" && $0.settings["optimizer.name"] == "adam" })
        #expect(adam.trialIDs == SyntheticExperiment.normalIDs)
        // Test accuracies 0.40, 0.42, 0.44: mean 0.42; deviations ±0.02 and 0, so the sample
        // variance is (0.0004 + 0 + 0.0004) / (3 − 1) = 0.0004 and the deviation 0.02.
        let accuracy = try #require(adam.testAccuracy)
        #expect(accuracy.count == 3)
        #expect(abs(accuracy.mean - 0.42) < 1e-12)
        #expect(abs((accuracy.standardDeviation ?? 0) - 0.02) < 1e-12)
        // conv1 mean 0.05, 0.06, 0.07 → 0.06 ± 0.01; its variance is twice that → 0.12 ± 0.02.
        let conv1 = try #require(adam.activations["conv1"])
        #expect(abs(conv1.mean.mean - 0.06) < 1e-12 && abs((conv1.mean.standardDeviation ?? 0) - 0.01) < 1e-12)
        #expect(abs(conv1.variance.mean - 0.12) < 1e-12 && abs((conv1.variance.standardDeviation ?? 0) - 0.02) < 1e-12)
        // A lone trial has no spread; a diverged one is counted but not averaged.
        let sgd = try #require(groups.first { $0.settings["optimizer.name"] == "sgd" })
        #expect(sgd.testAccuracy == nil && sgd.unevaluated == 1)
        let long = try #require(groups.first { $0.settings["train.steps"] == "5000" })
        #expect(long.testAccuracy?.standardDeviation == nil && long.testAccuracy?.count == 1)
        #expect(groups.first?.trialIDs == SyntheticExperiment.normalIDs, "best mean test accuracy first")

        let text = try String(contentsOf: Report.write(experiment: experiment.root).markdown, encoding: .utf8)
        let seeds = text.components(separatedBy: "## Mean and spread across seeds")[1].components(separatedBy: "## Curves")[0]
        #expect(seeds.contains("| 0, 1, 2 | 3 | 0.420 ± 0.020 | 6.00e-2 ± 1.00e-2 | 0.120 ± 0.020 | 0.100 ± 0.000 |"))
    }

    @Test func chartsHaveAPathPerTrialAndParseAsXML() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        try Report.write(experiment: experiment.root)
        for name in ["loss.svg", "accuracy.svg"] {
            let svg = try String(contentsOf: experiment.root.appendingPathComponent("report/\(name)"), encoding: .utf8)
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "\(name) is not well-formed XML: \(String(describing: parser.parserError))")
            for id in SyntheticExperiment.allIDs where id != "broken-s0" {
                let group = try #require(svg.components(separatedBy: "<g data-series=\"\(id)\">").dropFirst().first, "\(name) lacks \(id)")
                #expect(group.components(separatedBy: "</g>")[0].contains("<path d=\"M"), "\(name): \(id) has no line")
            }
            for path in svg.components(separatedBy: "<path d=\"").dropFirst() {
                let d = path.prefix(while: { $0 != "\"" })
                #expect(d.allSatisfy { "MLVH0123456789. -".contains($0) }, "\(name): a path holds \(d.filter(\.isLetter))")
            }
        }
        let loss = try String(contentsOf: experiment.root.appendingPathComponent("report/loss.svg"), encoding: .utf8)
        #expect(loss.contains("(log scale)"), "losses span 0.08 to 40: more than a decade")
    }

    @Test func errorsNameTheFileAtFault() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-no-such-\(UUID().uuidString)")
        #expect { try Report.write(experiment: missing) } throws: { error in
            guard case let .file(path, message) = error as? LoupeError else { return false }
            return path == missing.path && message == "does not exist"
        }

        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let summary = ExperimentLayout(root: experiment.root).trial("adam-s0").summary
        try Data("{ not json".utf8).write(to: summary)
        #expect { try Report.write(experiment: experiment.root) } throws: { error in
            guard case let .file(path, _) = error as? LoupeError else { return false }
            return path == summary.path
        }

        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect { try Report.write(experiment: empty) } throws: { error in
            guard case let .file(path, message) = error as? LoupeError else { return false }
            return path == ExperimentLayout(root: empty).trialsFolder.path && message.hasPrefix("holds no trials")
        }
    }

    @Test func overfittingThresholdIsAnOption() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        let text = try String(contentsOf: Report.write(experiment: experiment.root, options: ReportOptions(overfittingGap: 0.6)).markdown,
                              encoding: .utf8)
        #expect(resultsRow(text, "long-s0")?["flags"] == "")
    }

    @Test func staleFilterGridsAreRemoved() throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        try Report.write(experiment: experiment.root)
        try FileManager.default.removeItem(at: ExperimentLayout(root: experiment.root).trial("adam-s0").root)
        try Report.write(experiment: experiment.root)
        let files = try FileManager.default.contentsOfDirectory(atPath: experiment.root.appendingPathComponent("report").path)
        #expect(!files.contains("filters-adam-s0.png") && files.contains("filters-adam-s1.png"))
    }

    /// A crash part-way through writing a report file or one of its images leaves the previous
    /// one whole under its name (a PNG still decodes); the next report removes the temporary
    /// file and writes the new version.
    @Test(arguments: ["report.html", "report.md", "report/loss.svg", "report/filters-adam-s1.png"], AtomicFile.Stage.allCases)
    func aCrashWhileWritingLeavesThePreviousReportWhole(file: String, stage: AtomicFile.Stage) throws {
        let experiment = try SyntheticExperiment()
        defer { experiment.remove() }
        try Report.write(experiment: experiment.root)
        let target = experiment.root.appendingPathComponent(file), folder = target.deletingLastPathComponent()
        let before = try Data(contentsOf: target)
        // One trial fewer: every page and chart changes.
        try FileManager.default.removeItem(at: ExperimentLayout(root: experiment.root).trial("adam-s2").root)
        try AtomicFile.faultInjection.withValue(AtomicFile.FaultInjection { $0 == target ? stage : nil }) {
            #expect(throws: AtomicFile.InjectedCrash(stage: stage, url: target)) { try Report.write(experiment: experiment.root) }
        }
        #expect(try Data(contentsOf: target) == before)
        if file.hasSuffix(".png") { _ = try PNG.decode(Array(before), path: target.path) }
        let leftovers = { try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { AtomicFile.finalName(ofLeftover: $0) != nil } }
        #expect(try leftovers().count == 1)
        try Report.write(experiment: experiment.root)
        #expect(try leftovers().isEmpty)
        if !file.hasSuffix(".png") { #expect(try Data(contentsOf: target) != before) }
    }
}
