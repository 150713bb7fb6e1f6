import Foundation

/// SVG around the inspection's pictures: a PNG (embedded as a `data:` URI, drawn pixelated) with
/// row and column labels, colour legends, and plain bar charts.
enum FigureSVG {
    static func px(_ x: Double) -> String { String(format: "%.1f", x) }

    static func header(width: Double, height: Double, title: String) -> [String] {
        [##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(px(width))" height="\##(px(height))" viewBox="0 0 \##(px(width)) \##(px(height))" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img">"##,
         "<title>\(HTML.escape(title))</title>", ##"<rect width="100%" height="100%" fill="#ffffff"/>"##]
    }

    static func image(_ png: [UInt8], x: Double, y: Double, width: Int, height: Int) -> String {
        ##"<image x="\##(px(x))" y="\##(px(y))" width="\##(width)" height="\##(height)" style="image-rendering:pixelated" href="data:image/png;base64,\##(Data(png).base64EncodedString())"/>"##
    }

    static func text(_ text: String, x: Double, y: Double, anchor: String = "start", size: Int = 12, bold: Bool = false) -> String {
        ##"<text x="\##(px(x))" y="\##(px(y))" text-anchor="\##(anchor)" font-size="\##(size)"\##(bold ? #" font-weight="bold""# : "")>\##(HTML.escape(text))</text>"##
    }

    /// A picture with labels: `rows` at heights (centre y in the picture) on the left, `columns`
    /// at centre x above it.
    static func labelled(_ canvas: Canvas, title: String, rows: [(y: Double, text: String)], columns: [(x: Double, text: String)],
                         groups: [(x: Double, text: String)] = []) throws -> String {
        let left = rows.isEmpty ? 8.0 : 12 + 7 * Double(rows.map(\.text.count).max() ?? 0)
        let top = 26.0 + (columns.isEmpty ? 0 : 16) + (groups.isEmpty ? 0 : 16)
        let width = left + Double(canvas.width) + 8, height = top + Double(canvas.height) + 8
        var svg = header(width: width, height: height, title: title)
        svg.append(text(title, x: 8, y: 18, bold: true))
        for group in groups { svg.append(text(group.text, x: left + group.x, y: top - (columns.isEmpty ? 4 : 20), anchor: "middle")) }
        for column in columns { svg.append(text(column.text, x: left + column.x, y: top - 4, anchor: "middle", size: 11)) }
        for row in rows { svg.append(text(row.text, x: left - 6, y: top + row.y + 4, anchor: "end", size: 11)) }
        svg.append(image(try canvas.png(), x: left, y: top, width: canvas.width, height: canvas.height))
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// A horizontal colour bar for the viridis map from `low` to `high`, at (x, y).
    static func colourBar(id: String, x: Double, y: Double, width: Double, low: String, high: String) -> [String] {
        let stops = (0...8).map { i in ##"<stop offset="\##(px(Double(i) * 12.5))%" stop-color="\##(ColourMap.viridisHex(Double(i) / 8))"/>"## }
        return [##"<defs><linearGradient id="\##(id)">"## + stops.joined() + "</linearGradient></defs>",
                ##"<rect x="\##(px(x))" y="\##(px(y))" width="\##(px(width))" height="10" fill="url(#\##(id))" stroke="#999" stroke-width="0.5"/>"##,
                text(low, x: x, y: y + 23, size: 10), text(high, x: x + width, y: y + 23, anchor: "end", size: 10)]
    }

    /// Bars of `values`, one per label (or per index when the labels are many), with a title and
    /// axis labels.
    static func bars(_ values: [Double], title: String, xLabel: String, yLabel: String, lowX: String, highX: String,
                     color: String = "#4e79a7") -> String {
        let plot = (left: 56.0, top: 32.0, width: 420.0, height: 160.0)
        let width = plot.left + plot.width + 16, height = plot.top + plot.height + 44
        var svg = header(width: width, height: height, title: title)
        svg.append(text(title, x: plot.left, y: 18, bold: true))
        let top = max(values.max() ?? 0, 1e-12)
        let barWidth = plot.width / Double(max(values.count, 1))
        for (i, value) in values.enumerated() where value > 0 {
            let h = plot.height * value / top
            svg.append(##"<rect x="\##(px(plot.left + Double(i) * barWidth))" y="\##(px(plot.top + plot.height - h))" width="\##(px(max(barWidth - 1, 0.5)))" height="\##(px(h))" fill="\##(color)"/>"##)
        }
        svg.append(##"<line x1="\##(px(plot.left))" y1="\##(px(plot.top + plot.height))" x2="\##(px(plot.left + plot.width))" y2="\##(px(plot.top + plot.height))" stroke="#333"/>"##)
        svg.append(##"<line x1="\##(px(plot.left))" y1="\##(px(plot.top))" x2="\##(px(plot.left))" y2="\##(px(plot.top + plot.height))" stroke="#333"/>"##)
        svg.append(text(NumberFormat.value(top), x: plot.left - 4, y: plot.top + 4, anchor: "end", size: 10))
        svg.append(text("0", x: plot.left - 4, y: plot.top + plot.height + 4, anchor: "end", size: 10))
        svg.append(text(lowX, x: plot.left, y: plot.top + plot.height + 14, size: 10))
        svg.append(text(highX, x: plot.left + plot.width, y: plot.top + plot.height + 14, anchor: "end", size: 10))
        svg.append(text(xLabel, x: plot.left + plot.width / 2, y: plot.top + plot.height + 32, anchor: "middle"))
        svg.append(##"<text x="14" y="\##(px(plot.top + plot.height / 2))" text-anchor="middle" transform="rotate(-90 14 \##(px(plot.top + plot.height / 2)))">\##(HTML.escape(yLabel))</text>"##)
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
