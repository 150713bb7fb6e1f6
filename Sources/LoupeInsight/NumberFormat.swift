import Foundation

/// How the report writes numbers: short, aligned in meaning across tables and charts.
///
/// - `fraction`: accuracies and gaps, three decimals (`0.384`).
/// - `value`: any other measurement, three significant digits; plain between 0.1 and 10 000
///   (`0.384`, `12.5`, `1230`), otherwise in compact scientific form (`5.62e-2`, `1.50e5`).
/// - Not-a-number and infinities read `NaN`, `inf`, `-inf`; an absent value reads `—`.
public enum NumberFormat {
    public static let missing = "—"

    public static func fraction(_ value: Double?) -> String {
        guard let value else { return missing }
        guard value.isFinite else { return nonFinite(value) }
        return String(format: "%.3f", value)
    }

    public static func value(_ value: Double?) -> String {
        guard let value else { return missing }
        guard value.isFinite else { return nonFinite(value) }
        if value == 0 { return "0" }
        if let decimals = plainDecimals(value) { return String(format: "%.\(decimals)f", value) }
        return scientific(value)
    }

    /// The decimals that give a finite, nonzero `value` three significant digits when it is
    /// written plainly (0.1 ≤ |value| < 10 000); nil when it is written in scientific form.
    static func plainDecimals(_ value: Double) -> Int? {
        let magnitude = abs(value)
        guard magnitude >= 0.1 && magnitude < 10_000 else { return nil }
        let decimals = max(0, 2 - Int(floor(log10(magnitude))))
        // Rounding may carry into a fourth digit (9.996 → "10.00"): one decimal fewer.
        if decimals > 0, let rounded = Double(String(format: "%.\(decimals)f", magnitude)),
           rounded >= 10 * pow(10, floor(log10(magnitude))) {
            return decimals - 1
        }
        return decimals
    }

    /// `mean ± spread`, the spread to the mean's precision: `0.420 ± 0.020`, `0.120 ± 0.020`,
    /// `6.00e-2 ± 1.00e-2`. Fractions (`asFraction`) use three decimals for both.
    public static func meanAndSpread(_ mean: Double, _ spread: Double?, asFraction: Bool) -> String {
        let meanText = asFraction ? fraction(mean) : value(mean)
        guard let spread else { return meanText }
        guard spread.isFinite, mean.isFinite else { return "\(meanText) ± \(value(spread))" }
        if asFraction { return "\(meanText) ± \(fraction(spread))" }
        if mean != 0, let decimals = plainDecimals(mean) { return "\(meanText) ± \(String(format: "%.\(decimals)f", spread))" }
        return "\(meanText) ± \(value(spread))"
    }

    /// How one table column writes its numbers (`column`).
    enum ColumnStyle: Equatable {
        case plain(decimals: Int)
        case scientific
    }

    /// Plain, with the decimals that give the column's smallest value three significant
    /// digits, when every finite nonzero value is between 0.1 and 10 000; else scientific for
    /// every value, so a column never mixes `7.38e-2` with `0.138`.
    static func columnStyle(_ values: [Double]) -> ColumnStyle {
        let decimals = values.filter { $0.isFinite && $0 != 0 }.map(plainDecimals)
        if decimals.contains(where: { $0 == nil }) { return .scientific }
        return .plain(decimals: decimals.compactMap { $0 }.max() ?? 0)
    }

    static func formatted(_ value: Double, _ style: ColumnStyle) -> String {
        guard value.isFinite else { return nonFinite(value) }
        switch style {
        case let .plain(decimals): return String(format: "%.\(decimals)f", value)
        case .scientific: return value == 0 ? "0" : scientific(value)
        }
    }

    /// A column of measurements (`value`'s kind) in one format (`columnStyle`); nil reads `—`.
    public static func column(_ values: [Double?]) -> [String] {
        let style = columnStyle(values.compactMap { $0 })
        return values.map { $0.map { formatted($0, style) } ?? missing }
    }

    /// A column of `mean ± sd` in one format chosen from the means; the spread in the same
    /// format. nil reads `—`.
    public static func spreadColumn(_ spreads: [(mean: Double, deviation: Double?)?]) -> [String] {
        let style = columnStyle(spreads.compactMap { $0?.mean })
        return spreads.map { spread in
            guard let spread else { return missing }
            return formatted(spread.mean, style) + (spread.deviation.map { " ± " + formatted($0, style) } ?? "")
        }
    }

    /// Seconds with one decimal (`61.4`).
    public static func seconds(_ value: Double) -> String {
        value.isFinite ? String(format: "%.1f", value) : nonFinite(value)
    }

    /// `17.4`: milliseconds to one decimal, `—` when unknown.
    public static func milliseconds(_ value: Double?) -> String {
        guard let value else { return missing }
        return value.isFinite ? String(format: "%.1f", value) : nonFinite(value)
    }

    /// `5.62e-2`: three significant digits, the exponent without padding or plus sign.
    static func scientific(_ value: Double) -> String {
        let text = String(format: "%.2e", value)   // "5.62e-02"
        guard let e = text.firstIndex(of: "e") else { return text }
        let mantissa = text[..<e]
        let exponent = Int(text[text.index(after: e)...]) ?? 0
        return "\(mantissa)e\(exponent)"
    }

    static func nonFinite(_ value: Double) -> String {
        value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf")
    }
}
