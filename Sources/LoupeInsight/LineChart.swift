import Foundation

/// A line chart as a standalone SVG document: axes with ticks and labels, light grid lines, a
/// legend to the right, one `<g data-series="ID">` per series holding its line (a `<path>`) and
/// its markers (`<circle>`s). Points whose x or y the axes cannot place (NaN, ±inf, and y ≤ 0 on
/// a logarithmic axis) are skipped, and the line breaks there rather than bridging the gap.
public struct LineChart: Sendable {
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) { (self.x, self.y) = (x, y) }
    }

    public struct Series: Sendable {
        /// Shown as the line's tooltip and in its `data-series` attribute.
        public var id: String
        public var points: [Point]
        /// Single points drawn as small circles in the series' colour.
        public var markers: [Point]
        /// A CSS colour (`#1f77b4`).
        public var color: String
        /// An SVG `stroke-dasharray` (`6 3`), nil for a solid line.
        public var dash: String?
        /// A shaded band behind the line (the spread over seeds): at each x, low to high.
        public var band: [Range] = []
        /// Vertical error bars, low to high at each x.
        public var errorBars: [Range] = []

        public init(id: String, points: [Point], markers: [Point] = [], color: String, dash: String? = nil,
                    band: [Range] = [], errorBars: [Range] = []) {
            (self.id, self.points, self.markers, self.color, self.dash) = (id, points, markers, color, dash)
            (self.band, self.errorBars) = (band, errorBars)
        }
    }

    /// A span of y at one x, for bands and error bars.
    public struct Range: Sendable, Equatable {
        public var x: Double
        public var low: Double
        public var high: Double
        public init(x: Double, low: Double, high: Double) { (self.x, self.low, self.high) = (x, low, high) }
    }

    public struct LegendEntry: Sendable {
        public var label: String
        public var color: String
        public var dash: String?
        /// Draw a circle (a marker) rather than a line sample.
        public var marker: Bool

        public init(label: String, color: String, dash: String? = nil, marker: Bool = false) {
            (self.label, self.color, self.dash, self.marker) = (label, color, dash, marker)
        }
    }

    /// Prefixes the SVG's element ids, so that several charts can sit in one HTML page.
    public var identifier: String
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// One entry per series (labelled by its id) when empty.
    public var legend: [LegendEntry]
    public var logarithmicY: Bool
    /// A fixed y span (for accuracies, 0...1); nil fits the data.
    public var yRange: ClosedRange<Double>?
    /// A logarithmic x axis (learning rates).
    public var logarithmicX = false
    public var plotWidth: Double = 640
    public var plotHeight: Double = 360

    public init(identifier: String, title: String, xLabel: String, yLabel: String, series: [Series],
                legend: [LegendEntry] = [], logarithmicY: Bool = false, yRange: ClosedRange<Double>? = nil) {
        (self.identifier, self.title, self.xLabel, self.yLabel) = (identifier, title, xLabel, yLabel)
        (self.series, self.legend, self.logarithmicY, self.yRange) = (series, legend, logarithmicY, yRange)
    }

    // Layout, in pixels.
    static let margin = (left: 64.0, right: 16.0, top: 36.0, bottom: 48.0)
    static let legendLineHeight = 18.0
    static let characterWidth = 6.6   // average glyph advance of a 12 px sans-serif font

    public func svg() -> String {
        let xValues = series.flatMap { $0.points.map(\.x) + $0.markers.map(\.x) }
        let yValues = series.flatMap { $0.points.map(\.y) + $0.markers.map(\.y) + ($0.band + $0.errorBars).flatMap { [$0.low, $0.high] } }
        let xAxis = logarithmicX ? ChartAxis.logarithmic(covering: xValues) : ChartAxis.linear(covering: xValues)
        let yAxis = yRange.map { ChartAxis.linear(fixed: $0) }
            ?? (logarithmicY ? ChartAxis.logarithmic(covering: yValues) : ChartAxis.linear(covering: yValues))
        let entries = legend.isEmpty ? series.map { LegendEntry(label: $0.id, color: $0.color, dash: $0.dash) } : legend
        let legendWidth = entries.isEmpty ? 0 : 48 + Self.characterWidth * Double(entries.map(\.label.count).max() ?? 0)
        let m = Self.margin
        let (left, top) = (m.left, m.top)
        let (right, bottom) = (left + plotWidth, top + plotHeight)
        let width = right + m.right + legendWidth
        let height = max(bottom + m.bottom, top + Double(entries.count) * Self.legendLineHeight + 8)
        func px(_ x: Double) -> String { String(format: "%.1f", x) }
        func xPosition(_ x: Double) -> Double { xAxis.position(of: x, from: left, to: right) }
        func yPosition(_ y: Double) -> Double { yAxis.position(of: y, from: bottom, to: top) }

        var svg = [##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(px(width))" height="\##(px(height))" viewBox="0 0 \##(px(width)) \##(px(height))" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img">"##]
        svg.append("<title>\(HTML.escape(title))</title>")
        svg.append(##"<rect width="100%" height="100%" fill="#ffffff"/>"##)
        svg.append(##"<defs><clipPath id="\##(HTML.escape(identifier))-plot"><rect x="\##(px(left))" y="\##(px(top))" width="\##(px(plotWidth))" height="\##(px(plotHeight))"/></clipPath></defs>"##)
        svg.append(##"<text x="\##(px(left + plotWidth / 2))" y="22" text-anchor="middle" font-size="14" font-weight="bold">\##(HTML.escape(title))</text>"##)

        // Grid, ticks and tick labels.
        for tick in xAxis.ticks {
            let x = px(xPosition(tick))
            svg.append(##"<line x1="\##(x)" y1="\##(px(top))" x2="\##(x)" y2="\##(px(bottom))" stroke="#e5e5e5"/>"##)
            svg.append(##"<line x1="\##(x)" y1="\##(px(bottom))" x2="\##(x)" y2="\##(px(bottom + 5))" stroke="#333333"/>"##)
            svg.append(##"<text x="\##(x)" y="\##(px(bottom + 18))" text-anchor="middle">\##(ChartAxis.label(tick))</text>"##)
        }
        for tick in yAxis.ticks {
            let y = px(yPosition(tick))
            svg.append(##"<line x1="\##(px(left))" y1="\##(y)" x2="\##(px(right))" y2="\##(y)" stroke="#e5e5e5"/>"##)
            svg.append(##"<line x1="\##(px(left - 5))" y1="\##(y)" x2="\##(px(left))" y2="\##(y)" stroke="#333333"/>"##)
            svg.append(##"<text x="\##(px(left - 8))" y="\##(y)" text-anchor="end" dominant-baseline="middle">\##(ChartAxis.label(tick))</text>"##)
        }
        svg.append(##"<path d="M\##(px(left)) \##(px(top))V\##(px(bottom))H\##(px(right))" fill="none" stroke="#333333"/>"##)
        svg.append(##"<text x="\##(px(left + plotWidth / 2))" y="\##(px(bottom + 38))" text-anchor="middle">\##(HTML.escape(xLabel + (xAxis.logarithmic ? " (log scale)" : "")))</text>"##)
        let yLabelText = yLabel + (yAxis.logarithmic ? " (log scale)" : "")

        svg.append(##"<text transform="translate(16 \##(px(top + plotHeight / 2))) rotate(-90)" text-anchor="middle">\##(HTML.escape(yLabelText))</text>"##)
        if xValues.isEmpty {
            svg.append(##"<text x="\##(px(left + plotWidth / 2))" y="\##(px(top + plotHeight / 2))" text-anchor="middle" fill="#888888">no values logged</text>"##)
        }

        // Series: a path broken into segments wherever a point cannot be placed.
        // Lines are clipped to the plot; markers are not, so one on the edge shows whole.
        let clip = ##"clip-path="url(#\##(HTML.escape(identifier))-plot)""##
        svg.append(##"<g fill="none" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round">"##)
        for line in series {
            var d = "", drawing = false
            for point in line.points {
                guard xAxis.accepts(point.x), yAxis.accepts(point.y) else { drawing = false; continue }
                d += (drawing ? "L" : "M") + px(xPosition(point.x)) + " " + px(yPosition(point.y))
                drawing = true
            }
            let dash = line.dash.map { ##" stroke-dasharray="\##(HTML.escape($0))""## } ?? ""
            let color = HTML.escape(line.color)
            svg.append(##"<g data-series="\##(HTML.escape(line.id))"><title>\##(HTML.escape(line.id))</title>"##)
            let band = line.band.filter { xAxis.accepts($0.x) && yAxis.accepts($0.low) && yAxis.accepts($0.high) }
            if band.count > 1 {
                let upper = band.map { px(xPosition($0.x)) + " " + px(yPosition($0.high)) }
                let lower = band.reversed().map { px(xPosition($0.x)) + " " + px(yPosition($0.low)) }
                svg.append(##"<path class="band" d="M\##((upper + lower).joined(separator: "L"))Z" fill="\##(color)" fill-opacity="0.18" stroke="none" \##(clip)/>"##)
            }
            for bar in line.errorBars where xAxis.accepts(bar.x) && yAxis.accepts(bar.low) && yAxis.accepts(bar.high) {
                let x = xPosition(bar.x), (low, high) = (yPosition(bar.low), yPosition(bar.high))
                svg.append(##"<path class="error-bar" d="M\##(px(x)) \##(px(low))V\##(px(high))M\##(px(x - 4)) \##(px(low))H\##(px(x + 4))M\##(px(x - 4)) \##(px(high))H\##(px(x + 4))" stroke="\##(color)" stroke-width="1.2"/>"##)
            }
            svg.append(##"<path d="\##(d)" stroke="\##(color)"\##(dash) \##(clip)/>"##)
            for marker in line.markers where xAxis.accepts(marker.x) && yAxis.accepts(marker.y) {
                svg.append(##"<circle cx="\##(px(xPosition(marker.x)))" cy="\##(px(yPosition(marker.y)))" r="3.5" fill="\##(color)" stroke="#ffffff"/>"##)
            }
            svg.append("</g>")
        }
        svg.append("</g>")

        // Legend.
        let legendX = right + m.right + 8
        for (index, entry) in entries.enumerated() {
            let y = top + 8 + Double(index) * Self.legendLineHeight
            let color = HTML.escape(entry.color)
            if entry.marker {
                svg.append(##"<circle cx="\##(px(legendX + 12))" cy="\##(px(y))" r="3.5" fill="\##(color)"/>"##)
            } else {
                let dash = entry.dash.map { ##" stroke-dasharray="\##(HTML.escape($0))""## } ?? ""
                svg.append(##"<line x1="\##(px(legendX))" y1="\##(px(y))" x2="\##(px(legendX + 24))" y2="\##(px(y))" stroke="\##(color)" stroke-width="2"\##(dash)/>"##)
            }
            svg.append(##"<text x="\##(px(legendX + 32))" y="\##(px(y))" dominant-baseline="middle">\##(HTML.escape(entry.label))</text>"##)
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
