import Testing
@testable import LoupeLab

@Suite struct TextTableTests {
    let table = TextTable(
        header: ["trial", "optimizer.lr", "test acc", "seconds", "flags"],
        rows: [["adam-lr1e-3-s0", "1.0e-3", "0.412", "12.5", "overfitting: train 0.98 vs test 0.41; collapsed: conv2 is 0 on every test image"],
               ["sgd-lr1e-2-s0", "1.0e-2", "0.101", "9.0", ""]],
        wrapping: [4], rightAligned: [2, 3], hint: "--csv has every column")

    func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    @Test func aTableThatFitsIsDrawnWhole() {
        let whole = table.render()
        #expect(table.render(width: 200) == whole)
        let rows = lines(whole)
        #expect(rows.count == 4)
        #expect(rows[0].hasPrefix("trial           optimizer.lr  test acc  seconds  flags"))
        #expect(rows[2].hasPrefix("adam-lr1e-3-s0  1.0e-3           0.412     12.5  overfitting"), "numbers right-aligned under their headers")
    }

    @Test func flagsWrapAtSpacesToFitTheWidth() {
        let text = table.render(width: 80)
        let rows = lines(text)
        #expect(rows.allSatisfy { $0.count <= 80 }, "\(text)")
        #expect(rows.count > 4 && !text.contains("more column"), "wrapped, nothing left out: \(text)")
        // Every word of the flags is there, in order, in the flags column.
        let start = rows[0].count - "flags".count
        let words = rows.dropFirst(2).prefix(while: { !$0.hasPrefix("sgd") })
            .map { String($0.dropFirst(start)).trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(words == table.rows[0][4], "\(text)")
    }

    @Test func columnsThatStillDoNotFitAreLeftOutAndNamed() {
        let text = table.render(width: 40)
        let rows = lines(text)
        #expect(rows.allSatisfy { $0.count <= 40 }, "\(text)")
        #expect(rows[0].hasPrefix("trial"), "the first column is always kept")
        let note = rows.drop { !$0.hasPrefix("(") }.joined(separator: " ")
        #expect(note.contains("more columns than fit 40") && note.contains("seconds") && note.contains("--csv has every column"), "\(text)")
        #expect(!rows[0].contains("seconds"))
    }

    @Test func wrappingCutsAWordLongerThanTheLine() {
        #expect(TextTable.wrap("a verylongword b", width: 5) == ["a", "veryl", "ongwo", "rd b"])
        #expect(TextTable.wrap("", width: 5) == [""])
    }

    @Test func theRunResultsTableFitsANarrowTerminal() {
        let summary = TrialSummary(id: "adam-lr1e-3-s0", status: .completed, steps: 300, seconds: 12, testAccuracy: 0.41,
                                   activations: ["conv1": .init(mean: 0.12, variance: 0.03), "conv2": .init(mean: 0.2, variance: 0.05)],
                                   parameters: 3_274_634, settings: ["optimizer.name": "adam", "optimizer.lr": "1.0e-3"])
        let text = Console.table([summary], probes: ["conv1", "conv2"], results: "runs/x").render(width: 60)
        #expect(lines(text).allSatisfy { $0.count <= 60 }, "\(text)")
        #expect(text.contains("loupe runs runs/x --csv"), "\(text)")
    }
}
