import Foundation

/// A table for the terminal: a header, a rule, rows; columns two spaces apart, each as wide as
/// its widest cell, numbers right-aligned. Drawn for a width, it fits: long text of the
/// `wrapping` columns (flags) wraps onto further lines, then columns are left out from the
/// right (the first is always kept) and a last line names them, so no line is ever wider than
/// the terminal and nothing is silently cut.
public struct TextTable: Sendable {
    public var header: [String]
    public var rows: [[String]]
    /// Columns whose cells may wrap at spaces.
    public var wrapping: Set<Int>
    /// Columns drawn right-aligned.
    public var rightAligned: Set<Int>
    /// Said after the names of left-out columns, e.g. how to see them.
    public var hint: String

    /// The narrowest a wrapping column is made before columns are left out.
    static let narrowestWrap = 16
    static let gap = 2

    public init(header: [String], rows: [[String]], wrapping: Set<Int> = [], rightAligned: Set<Int> = [], hint: String = "") {
        self.header = header
        self.rows = rows.map { row in header.indices.map { $0 < row.count ? row[$0] : "" } }
        self.wrapping = wrapping
        self.rightAligned = rightAligned
        self.hint = hint
    }

    /// The table in lines of at most `width` characters (nil: as wide as its cells need).
    public func render(width: Int? = nil) -> String {
        let natural = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        var widths = natural
        var shown = Array(header.indices)
        func total() -> Int { shown.map { widths[$0] }.reduce(0, +) + Self.gap * max(0, shown.count - 1) }
        if let width {
            // First the wrapping columns narrow, down to the widest single word or the floor.
            for column in shown where wrapping.contains(column) && total() > width {
                let longestWord = rows.flatMap { $0[column].split(separator: " ").map(\.count) }.max() ?? 0
                let floor = max(header[column].count, min(Self.narrowestWrap, max(longestWord, 1)))
                widths[column] = max(floor, widths[column] - (total() - width))
            }
            // Then columns are left out from the right, wrapping ones last, never the first.
            while total() > width && shown.count > 1 {
                let candidates = shown.dropFirst()
                let column = candidates.last { !wrapping.contains($0) } ?? candidates.last!
                shown.removeAll { $0 == column }
                // A wrapping column may widen again into the room the left-out one gave.
                for wrap in shown where wrapping.contains(wrap) {
                    widths[wrap] = min(natural[wrap], widths[wrap] + max(0, width - total()))
                }
            }
        }

        func cell(_ text: String, _ column: Int) -> String {
            let pad = String(repeating: " ", count: max(0, widths[column] - text.count))
            return rightAligned.contains(column) ? pad + text : text + pad
        }
        func lines(of row: [String]) -> [String] {
            let pieces = shown.map { column in
                row[column].count > widths[column] ? Self.wrap(row[column], width: widths[column]) : [row[column]]
            }
            let height = pieces.map(\.count).max() ?? 1
            return (0..<height).map { line in
                zip(shown, pieces).map { column, parts in cell(line < parts.count ? parts[line] : "", column) }
                    .joined(separator: String(repeating: " ", count: Self.gap))
                    .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            }
        }
        var output = lines(of: header)
        output.append(shown.map { String(repeating: "─", count: widths[$0]) }.joined(separator: String(repeating: " ", count: Self.gap)))
        for row in rows { output += lines(of: row) }
        let omitted = header.indices.filter { !shown.contains($0) }.map { header[$0] }
        if !omitted.isEmpty {
            var note = "(\(omitted.count) more column\(omitted.count == 1 ? "" : "s") than fit \(width ?? 0) characters: \(omitted.joined(separator: ", "))"
            note += hint.isEmpty ? ")" : "; \(hint))"
            output += Self.wrap(note, width: max(20, width ?? note.count))
        }
        return output.joined(separator: "\n")
    }

    /// `text` in lines of at most `width` characters, broken at spaces; a longer word is cut.
    static func wrap(_ text: String, width: Int) -> [String] {
        let width = max(1, width)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            var word = Substring(word)
            if !line.isEmpty && line.count + 1 + word.count <= width { line += " " + word; continue }
            if !line.isEmpty { lines.append(line); line = "" }
            while word.count > width {
                lines.append(String(word.prefix(width)))
                word = word.dropFirst(width)
            }
            line = String(word)
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }

    /// The width tables printed to standard output should fit: the terminal's when it is one,
    /// else `COLUMNS` when set; nil (no limit) when the output goes to a file or a pipe.
    public static func outputWidth(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        if isatty(STDOUT_FILENO) != 0 { return Console.terminalColumns() }
        return environment["COLUMNS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
    }
}
