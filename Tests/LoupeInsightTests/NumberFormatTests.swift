import Testing
@testable import LoupeInsight

@Suite struct NumberFormatTests {
    @Test func valuesHaveThreeSignificantDigits() {
        let cases: [(Double, String)] = [(0.384, "0.384"), (0.0562, "5.62e-2"), (12.345, "12.3"), (1234.6, "1235"),
                                         (9.996, "10.0"), (150_000, "1.50e5"), (-0.25, "-0.250"), (0, "0"),
                                         (.nan, "NaN"), (-.infinity, "-inf")]
        for (value, text) in cases { #expect(NumberFormat.value(value) == text, "\(value)") }
        #expect(NumberFormat.value(nil) == "—")
    }

    @Test func fractionsHaveThreeDecimals() {
        #expect(NumberFormat.fraction(0.4) == "0.400")
        #expect(NumberFormat.meanAndSpread(0.42, 0.02, asFraction: true) == "0.420 ± 0.020")
        #expect(NumberFormat.meanAndSpread(0.42, nil, asFraction: true) == "0.420")
        // Other values: the spread to the mean's precision.
        #expect(NumberFormat.meanAndSpread(0.12, 0.02, asFraction: false) == "0.120 ± 0.020")
        #expect(NumberFormat.meanAndSpread(12.3, 0.456, asFraction: false) == "12.3 ± 0.5")
        #expect(NumberFormat.meanAndSpread(0.06, 0.01, asFraction: false) == "6.00e-2 ± 1.00e-2")
    }

    @Test func escaping() {
        #expect(HTML.escape(#"<a href="x">&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
        #expect(Markdown.escape("a|b_c\nd") == #"a\|b\_c d"#)
    }

    @Test func spreadUsesTheSampleDeviation() throws {
        // 1, 2, 3, 4: mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; 5 / 3 → sd √(5/3).
        let spread = try #require(Spread([1, 2, 3, 4]))
        #expect(spread.mean == 2.5 && spread.count == 4)
        #expect(abs(spread.standardDeviation! - (5.0 / 3).squareRoot()) < 1e-15)
        #expect(Spread([]) == nil && Spread([3])?.standardDeviation == nil)
        // Equal values: exactly no spread (their sum's rounding would give 1.7e-17 for 0.1 × 3).
        let equal = try #require(Spread([0.1, 0.1, 0.1]))
        #expect(equal.mean == 0.1 && equal.standardDeviation == 0)
    }

    @Test func aColumnHasOneFormat() {
        // 0.0738 alone would read 7.38e-2 and 0.138 plainly: in one column both are scientific.
        #expect(NumberFormat.column([0.0738, 0.138, nil, 0]) == ["7.38e-2", "1.38e-1", "—", "0"])
        // All between 0.1 and 10 000: plain, with the decimals the smallest needs.
        #expect(NumberFormat.column([0.138, 12.5, 0]) == ["0.138", "12.500", "0.000"])
        #expect(NumberFormat.spreadColumn([(0.06, 0.01), (0.3, nil), nil]) == ["6.00e-2 ± 1.00e-2", "3.00e-1", "—"])
        #expect(NumberFormat.spreadColumn([(0.12, 0.02), (0.6, 0.1)]) == ["0.120 ± 0.020", "0.600 ± 0.100"])
    }
}
