import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import LoupeInsight

@Suite struct LineChartTests {
    func points(_ pairs: [(Double, Double)]) -> [LineChart.Point] { pairs.map { LineChart.Point(x: $0.0, y: $0.1) } }

    @Test func nonFiniteValuesBreakTheLine() throws {
        let chart = LineChart(identifier: "t", title: "A & B", xLabel: "step", yLabel: "loss",
                              series: [.init(id: "one", points: points([(0, 1), (1, .nan), (2, 2), (3, 3), (4, .infinity), (5, 4)]), color: "#000000")])
        let svg = chart.svg()
        let d = try #require(svg.components(separatedBy: "<path d=\"").dropFirst(2).first?.prefix(while: { $0 != "\"" }))
        // Three runs of finite points: (0), (2, 3), (5); each starts with a move.
        #expect(d.filter { $0 == "M" }.count == 3)
        #expect(d.filter { $0 == "L" }.count == 1)
        #expect(d.allSatisfy { "ML0123456789. -".contains($0) }, "\(d)")
        #expect(svg.contains("<title>A &amp; B</title>"))
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }

    @Test func logarithmicAxisSkipsNonPositiveValues() throws {
        let chart = LineChart(identifier: "t", title: "loss", xLabel: "step", yLabel: "loss",
                              series: [.init(id: "one", points: points([(0, 0), (1, 0.1), (2, 10)]), color: "#000000")],
                              logarithmicY: true)
        let svg = chart.svg()
        let d = try #require(svg.components(separatedBy: "<path d=\"").dropFirst(2).first?.prefix(while: { $0 != "\"" }))
        #expect(d.filter { $0 == "M" }.count == 1 && d.filter { $0 == "L" }.count == 1)
        #expect(svg.contains("loss (log scale)"))
    }

    @Test func everySeriesHasAGroupAndTheLegendItsEntries() {
        let chart = LineChart(identifier: "t", title: "t", xLabel: "x", yLabel: "y",
                              series: [.init(id: "a", points: points([(0, 0), (1, 1)]), markers: points([(1, 0.5)]), color: "#111111"),
                                       .init(id: "b<c", points: points([(0, 1), (1, 0)]), color: "#222222", dash: "4 2")])
        let svg = chart.svg()
        #expect(svg.contains(#"<g data-series="a">"#) && svg.contains(#"<g data-series="b&lt;c">"#))
        #expect(svg.components(separatedBy: "<circle").count == 2, "one marker")
        #expect(svg.contains(#"stroke-dasharray="4 2""#))
        #expect(svg.contains(">b&lt;c</text>"), "legend defaults to one entry per series")
    }

    @Test func linearTicksAreRoundNumbers() {
        let axis = ChartAxis.linear(covering: [10, 4990])
        #expect(axis.ticks == [0, 1000, 2000, 3000, 4000, 5000])
        #expect((axis.lower, axis.upper) == (0, 5000))
        let fixed = ChartAxis.linear(fixed: 0...1)
        #expect(fixed.ticks.map(ChartAxis.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        let flat = ChartAxis.linear(covering: [2, 2])
        #expect(flat.lower < 2 && flat.upper > 2)
    }

    @Test func logarithmicTicksSitOnDecades() {
        let axis = ChartAxis.logarithmic(covering: [0.05, 2.3, -1, .nan])
        #expect((axis.lower, axis.upper) == (0.01, 10))
        // Three decades: only powers of ten.
        #expect(axis.ticks.map(ChartAxis.label) == ["0.01", "0.1", "1", "10"])
        let short = ChartAxis.logarithmic(covering: [1.5, 8])
        #expect(short.ticks.map(ChartAxis.label) == ["1", "2", "5", "10"])
        #expect(ChartAxis.label(1e-5) == "1e-5")
    }
}
