import Foundation

/// The report as Markdown (GitHub-flavoured tables), with its images as files in a folder beside
/// it (`report/loss.svg`, `report/filters-<id>.png`) referenced by relative paths.
enum Markdown {
    /// Escapes text for a table cell or a line of prose: Markdown's punctuation, and the cell
    /// separator `|`; line breaks become spaces.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\", "|", "*", "_", "`", "[", "]", "<", ">", "#": escaped += "\\\(character)"
            case "\n", "\r", "\r\n": escaped += " "
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A relative link to `file` in `folder`, percent-encoded.
    static func link(_ folder: String, _ file: String) -> String {
        let path = folder + "/" + file
        return path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
    }

    static func document(_ content: ReportContent, imageFolder: String) -> String {
        var lines = ["# Loupe report: \(escape(content.title))", ""]
        for sentence in content.overview { lines += [escape(sentence), ""] }

        lines += ["## Flags", ""]
        if content.flagged.isEmpty {
            lines.append("No trial is flagged.")
        } else {
            lines += content.flagged.map { "- `\($0.trialID)`: \(escape($0.flags.joined(separator: "; ")))" }
        }

        lines += ["", "## Results", "",
                  "Sorted by test accuracy (diverged and failed trials last). Train accuracy is the mean minibatch accuracy over the last tenth of training; activation statistics are over the test set, after the activation function.",
                  "", table(content.results)]
        lines += ["", "## Mean and spread across seeds", "",
                  "Trials grouped by every setting except the seed: mean ± sample standard deviation (n − 1) over the evaluated trials; n counts them.",
                  ""] + (content.referenceNote.map { [escape($0), ""] } ?? []) + [table(content.seeds)]

        if !content.axisCharts.isEmpty || content.parallelCoordinates != nil {
            lines += ["", "## Test accuracy against each swept setting", ""]
            for chart in content.axisCharts {
                lines += ["![Test accuracy against \(escape(chart.key))](\(link(imageFolder, chart.fileName)))", "",
                          "Final test accuracy against \(escape(chart.key)): one line per combination of the other swept settings, mean over seeds ± one sample standard deviation.", ""]
            }
            if content.parallelCoordinates != nil {
                lines += ["![Settings against test accuracy](\(link(imageFolder, ReportContent.parallelFile)))", "", escape(ReportContent.parallelNote), ""]
            }
        }
        lines += ["", "## Curves", "",
                  "![Training loss per group](\(link(imageFolder, ReportContent.groupLossFile)))", "",
                  "![Accuracy per group](\(link(imageFolder, ReportContent.groupAccuracyFile)))", "",
                  escape(ReportContent.groupNote), "",
                  "![Training loss](\(link(imageFolder, ReportContent.lossFile)))", "",
                  "Minibatch loss at each logged step; a line that stops early diverged.", "",
                  "![Accuracy](\(link(imageFolder, ReportContent.accuracyFile)))", "",
                  "Minibatch accuracy at each logged step; the dot is the trial's test accuracy. A dot far below the end of its line is a train/test gap."]

        lines += ["", "## Confusion matrices", "", escape(ReportContent.confusionNote)]
        for (index, matrix) in content.confusions.enumerated() {
            lines += ["", "![Confusion matrix: \(escape(matrix.label))](\(link(imageFolder, ReportContent.confusionFile(index))))"]
        }
        if !content.groupsWithoutConfusion.isEmpty {
            lines += ["", "No confusion matrix recorded for: \(escape(content.groupsWithoutConfusion.joined(separator: "; ")))"]
        }

        lines += ["", "## Time per step and throughput", "", escape(ReportContent.speedNote), "", table(content.speed), "",
                  "![Time per training step](\(link(imageFolder, ReportContent.speedFile)))"]

        lines += ["", "## First-layer filters", "", escape(content.filterNote)]
        for group in content.filters {
            lines += ["", "### \(escape(group.label))", ""]
            lines += group.grids.map { "![\(escape($0.caption))](\(link(imageFolder, $0.fileName)))" }
            lines += ["", group.grids.map { escape($0.caption) }.joined(separator: "; ")]
        }
        if !content.inside.trials.isEmpty { lines += content.inside.markdown() }

        lines += ["", "## Experiment as run", ""]
        // A fence longer than any run of backticks in the text, so the text cannot close it.
        func fenced(_ text: String) -> [String] {
            let longestRun = text.split(whereSeparator: { $0 != "`" }).map(\.count).max() ?? 0
            let fence = String(repeating: "`", count: max(3, longestRun + 1))
            return [fence + "yaml", text.hasSuffix("\n") ? String(text.dropLast()) : text, fence]
        }
        for (label, value) in content.provenance { lines.append("- \(escape(label)): \(escape(value))") }
        if !content.provenance.isEmpty { lines.append("") }
        if let text = content.experimentText {
            lines += fenced(text)
        } else {
            lines.append("The folder has no experiment.yaml.")
        }
        if let original = content.originalText {
            lines += ["", "The experiment file as given, before the overrides:", ""] + fenced(original)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func table(_ table: Table) -> String {
        var lines = ["| " + table.columns.map { escape($0.title) }.joined(separator: " | ") + " |",
                     "|" + table.columns.map { $0.kind == .number ? " ---: " : " --- " }.joined(separator: "|") + "|"]
        for row in table.rows {
            var cells = row.cells.map(escape)
            if row.flagged, let flags = table.columns.firstIndex(where: { $0.kind == .flags }), !row.cells[flags].isEmpty {
                cells[flags] = "**\(cells[flags])**"
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }
}
