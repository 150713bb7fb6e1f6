import Foundation

/// One axis of a chart: the span of data values it shows, linear or logarithmic, and where its
/// ticks go. Linear ticks step by 1, 2 or 5 × 10ᵏ and the span is widened to whole ticks;
/// logarithmic ticks sit on powers of ten (and on 2 and 5 times them when the span is short).
struct ChartAxis: Sendable, Equatable {
    var lower: Double
    var upper: Double
    var logarithmic: Bool
    var ticks: [Double]

    /// A linear axis covering `values` (finite ones), with about `tickCount` ticks.
    static func linear(covering values: [Double], tickCount: Int = 6) -> ChartAxis {
        let finite = values.filter(\.isFinite)
        guard var low = finite.min(), var high = finite.max() else { return linear(fixed: 0...1) }
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        let step = niceStep((high - low) / Double(max(1, tickCount - 1)))
        // Ticks are whole multiples of the step, so zero is exactly zero.
        let first = Int((low / step).rounded(.down)), last = Int((high / step).rounded(.up))
        return ChartAxis(lower: Double(first) * step, upper: Double(last) * step, logarithmic: false,
                         ticks: (first...last).map { Double($0) * step })
    }

    /// A linear axis over exactly `range`, with about `tickCount` ticks inside it.
    static func linear(fixed range: ClosedRange<Double>, tickCount: Int = 6) -> ChartAxis {
        let step = niceStep((range.upperBound - range.lowerBound) / Double(max(1, tickCount - 1)))
        let first = (range.lowerBound / step).rounded(.up), last = (range.upperBound / step).rounded(.down)
        let ticks = first <= last ? (Int(first)...Int(last)).map { Double($0) * step } : []
        return ChartAxis(lower: range.lowerBound, upper: range.upperBound, logarithmic: false, ticks: ticks)
    }

    /// A logarithmic axis from the power of ten below the smallest positive finite value to the
    /// one above the largest; at most about eight labelled decades.
    static func logarithmic(covering values: [Double]) -> ChartAxis {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        guard let low = positive.min(), let high = positive.max() else { return linear(fixed: 0...1) }
        let first = Int(log10(low).rounded(.down))
        var last = Int(log10(high).rounded(.up))
        if last == first { last += 1 }
        let every = max(1, (last - first + 7) / 8)
        var ticks: [Double] = []
        for exponent in stride(from: first, through: last, by: every) {
            let decade = pow(10, Double(exponent))
            ticks.append(decade)
            if last - first <= 2 && exponent < last { ticks += [2 * decade, 5 * decade] }
        }
        return ChartAxis(lower: pow(10, Double(first)), upper: pow(10, Double(last)), logarithmic: true, ticks: ticks)
    }

    /// 1, 2 or 5 × 10ᵏ, the smallest at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let decade = pow(10, log10(raw).rounded(.down))
        let fraction = raw / decade
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * decade
    }

    /// Whether the axis can place `value` (finite, and positive on a logarithmic axis).
    func accepts(_ value: Double) -> Bool { value.isFinite && (!logarithmic || value > 0) }

    /// Where `value` falls between the pixel positions `start` (at `lower`) and `end` (at `upper`).
    func position(of value: Double, from start: Double, to end: Double) -> Double {
        let t = logarithmic ? (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
                            : (value - lower) / (upper - lower)
        return start + t * (end - start)
    }

    /// A tick's label: shortest form (`0.2`, `5000`, `1e-3`).
    static func label(_ value: Double) -> String {
        let text = String(format: "%g", value)
        guard let e = text.firstIndex(of: "e") else { return text }
        return "\(text[..<e])e\(Int(text[text.index(after: e)...]) ?? 0)"
    }
}
