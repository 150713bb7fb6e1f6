import Foundation

/// The report as one self-contained HTML page: CSS in a `<style>`, charts as inline SVG, filter
/// grids as base64 `data:` URIs. Nothing is fetched, so the file can be mailed or archived alone.
enum HTML {
    /// Escapes text for HTML and XML content and attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// The element id of a trial's filter figure, which table rows link to.
    static func anchor(_ trialID: String) -> String { "trial-" + trialID }

    static let style = """
    body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1500px;
           padding: 0 1em; color: #222; line-height: 1.45; }
    h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; font-size: .85em; }
    th, td { border-bottom: 1px solid #e3e3e3; padding: .3em .6em; text-align: left; white-space: nowrap; vertical-align: top; }
    th { background: #f5f5f5; position: sticky; top: 0; }
    table.provenance th { position: static; text-align: left; } table.provenance td { white-space: normal; }
    table.sortable th { cursor: pointer; } table.sortable th[data-order=ascending]::after { content: " ▲"; }
    table.sortable th[data-order=descending]::after { content: " ▼"; }
    table.sortable td:first-child, table.sortable th:first-child { position: sticky; left: 0; z-index: 1; background: #fff; }
    td.id { white-space: normal; min-width: 12em; max-width: 16em; }
    table.sortable th:first-child { background: #f5f5f5; z-index: 2; } tr.flagged td:first-child { background: #fff4e5; }
    .scroll { max-width: 100%; } figure svg { max-width: 100%; height: auto; }
    details > summary { cursor: pointer; color: #345; margin: .5em 0; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    tr.flagged td { background: #fff4e5; }
    td.flags { white-space: normal; min-width: 18em; max-width: 30em; color: #a33b00; }
    ul.flags li { color: #a33b00; }
    code, pre, td.id { font-family: ui-monospace, Menlo, Consolas, monospace; }
    pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: 1em; overflow-x: auto; font-size: .85em; }
    figure { margin: 1em 0; } figcaption, .note { font-size: .85em; color: #555; }
    .filters { display: flex; flex-wrap: wrap; gap: 1.5em; }
    .filters figure { margin: 0; max-width: 300px; }
    .filters img { image-rendering: pixelated; image-rendering: crisp-edges; border: 1px solid #ccc; max-width: 100%; }
    .filters img.shared, body.shared-scale .filters img.own { display: none; }
    body.shared-scale .filters img.shared { display: inline; }
    h3 { font-size: 1em; margin: 1.2em 0 .4em; }
    label.toggle { font-size: .9em; cursor: pointer; }
    .confusions { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
    .confusions figure { margin: 0; }
    """

    /// Figures of the inspection (`loupe inspect`, the report's "Inside the network").
    static let insightStyle = """
    .insight { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
    .insight figure { margin: 0; max-width: 100%; }
    .insight img, .insight svg { max-width: 100%; height: auto; image-rendering: pixelated; }
    .insight figcaption { max-width: 60em; }
    """

    /// Click a column's header to sort its table by it (numbers as numbers), again to reverse.
    static let sortScript = """
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (th, column) {
        th.addEventListener("click", function () {
          var ascending = th.dataset.order !== "ascending";
          table.querySelectorAll("thead th").forEach(function (other) { delete other.dataset.order; });
          th.dataset.order = ascending ? "ascending" : "descending";
          var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = a.cells[column].textContent.trim(), y = b.cells[column].textContent.trim();
            var p = parseFloat(x), q = parseFloat(y), order;
            if (!isNaN(p) && !isNaN(q)) { order = p - q; } else if (isNaN(p) !== isNaN(q)) { order = isNaN(p) ? 1 : -1; } else { order = x.localeCompare(y, undefined, {numeric: true}); }
            return ascending ? order : -order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
    """

    /// The filters' "one scale" checkbox: shows each group's shared-scale images instead.
    static let scaleScript = """
    var scale = document.getElementById("shared-scale");
    if (scale) { scale.addEventListener("change", function () { document.body.classList.toggle("shared-scale", scale.checked); }); }
    """

    static func page(_ content: ReportContent) -> String {
        var html = ["<!DOCTYPE html>", ##"<html lang="en">"##, "<head>", ##"<meta charset="utf-8">"##,
                    ##"<meta name="viewport" content="width=device-width, initial-scale=1">"##,
                    "<title>Loupe report: \(escape(content.title))</title>", "<style>", style, insightStyle, "</style>", "</head>", "<body>",
                    "<h1>Loupe report: \(escape(content.title))</h1>"]
        html += content.overview.map { "<p>\(escape($0))</p>" }

        // Trial ids link to their filter figure, where there is one.
        let linked = Set(content.filters.flatMap { $0.grids.compactMap(\.trialID) })
        func trialLink(_ trialID: String, _ text: String) -> String {
            linked.contains(trialID) ? ##"<a href="#\##(escape(anchor(trialID)))">\##(text)</a>"## : text
        }
        html.append(##"<h2 id="flags">Flags</h2>"##)
        if content.flagged.isEmpty {
            html.append("<p>No trial is flagged.</p>")
        } else {
            html.append(##"<ul class="flags">"##)
            for (trialID, flags) in content.flagged {
                html.append("<li>\(trialLink(trialID, "<code>\(escape(trialID))</code>")): \(escape(flags.joined(separator: "; ")))</li>")
            }
            html.append("</ul>")
        }

        html.append(##"<h2 id="results">Results</h2>"##)
        html.append(##"<p class="note">Sorted by test accuracy (diverged and failed trials last). Train accuracy is the mean minibatch accuracy over the last tenth of training; activation statistics are over the test set, after the activation function.</p>"##)
        html.append(table(content.results, linked: linked))

        html.append(##"<h2 id="seeds">Mean and spread across seeds</h2>"##)
        html.append(##"<p class="note">Trials grouped by every setting except the seed: mean ± sample standard deviation (n − 1) over the evaluated trials; n counts them.</p>"##)
        if let note = content.referenceNote { html.append(##"<p class="note">\##(escape(note))</p>"##) }
        html.append(table(content.seeds, linked: []))

        if !content.axisCharts.isEmpty || content.parallelCoordinates != nil {
            html.append(##"<h2 id="sweep">Test accuracy against each swept setting</h2>"##)
            for chart in content.axisCharts {
                html.append("<figure>\(chart.svg)<figcaption>Final test accuracy against \(escape(chart.key)): one line per combination of the other swept settings, the mean over seeds with error bars of ± one sample standard deviation.</figcaption></figure>")
            }
            if let parallel = content.parallelCoordinates {
                html.append(##"<figure id="parallel-coordinates">\##(parallel)<figcaption>\##(escape(ReportContent.parallelNote))</figcaption></figure>"##)
            }
        }
        html.append(##"<h2 id="curves">Curves</h2>"##)
        html.append("<figure>\(content.groupLossChart)<figcaption>\(escape(ReportContent.groupNote))</figcaption></figure>")
        html.append("<figure>\(content.groupAccuracyChart)<figcaption>\(escape(ReportContent.groupNote)) Dotted: accuracy over a whole split at each evaluation (unsmoothed); dot with bar: final test accuracy, mean and min–max over seeds.</figcaption></figure>")
        html.append("<details><summary>Every trial's raw curves (unsmoothed)</summary>")
        html.append("<figure>\(content.lossChart)<figcaption>Minibatch loss at each logged step; a line that stops early diverged.</figcaption></figure>")
        html.append("<figure>\(content.accuracyChart)<figcaption>Minibatch accuracy at each logged step; the dot is the trial's test accuracy. A dot far below the end of its line is a train/test gap.</figcaption></figure>")
        html.append("</details>")

        html.append(##"<h2 id="confusion">Confusion matrices</h2>"##)
        html.append(##"<p class="note">\##(escape(ReportContent.confusionNote))</p>"##)
        if !content.confusions.isEmpty {
            html.append(##"<div class="confusions">"##)
            html += content.confusionCharts.map { "<figure>\($0)</figure>" }
            html.append("</div>")
        }
        if !content.groupsWithoutConfusion.isEmpty {
            html.append(##"<p class="note">No confusion matrix recorded for: \##(escape(content.groupsWithoutConfusion.joined(separator: "; ")))</p>"##)
        }

        html.append(##"<h2 id="speed">Time per step and throughput</h2>"##)
        html.append(##"<p class="note">\##(escape(ReportContent.speedNote))</p>"##)
        html.append(table(content.speed, linked: []))
        html.append("<figure>\(content.speedChart)</figure>")

        html.append(##"<h2 id="filters">First-layer filters</h2>"##)
        html.append(##"<p class="note">\##(escape(content.filterNote))</p>"##)
        if !content.filters.isEmpty {
            html.append(##"<p><label class="toggle"><input type="checkbox" id="shared-scale"> one scale per group (compare sizes, not only shapes)</label></p>"##)
        }
        for group in content.filters {
            html.append("<h3>\(escape(group.label))</h3>")
            html.append(##"<div class="filters">"##)
            for grid in group.grids {
                func image(_ png: [UInt8], _ kind: String) -> String {
                    ##"<img class="\##(kind)" src="data:image/png;base64,\##(Data(png).base64EncodedString())" alt="\##(escape(grid.caption))">"##
                }
                let id = grid.trialID.map { ##" id="\##(escape(anchor($0)))""## } ?? ""
                html.append("<figure\(id)>\(image(grid.own, "own"))\(image(grid.shared, "shared"))<figcaption>\(escape(grid.caption))</figcaption></figure>")
            }
            html.append("</div>")
        }
        if !content.trialsWithoutFilters.isEmpty {
            html.append(##"<p class="note">No first-layer weights for: \##(escape(content.trialsWithoutFilters.joined(separator: ", ")))</p>"##)
        }

        if !content.inside.trials.isEmpty { html += content.inside.html() }

        html.append(##"<h2 id="experiment">Experiment as run</h2>"##)
        if !content.provenance.isEmpty {
            html.append(##"<table class="provenance"><tbody>"##)
            for (label, value) in content.provenance {
                html.append("<tr><th>\(escape(label))</th><td><code>\(escape(value))</code></td></tr>")
            }
            html.append("</tbody></table>")
            html.append(##"<p class="note">The effective experiment: the file with the overrides applied (experiment.yaml in the results folder).</p>"##)
        }
        if let text = content.experimentText {
            html.append("<pre>\(escape(text))</pre>")
        } else {
            html.append("<p>The folder has no experiment.yaml.</p>")
        }
        if let original = content.originalText {
            html.append("<details><summary>The experiment file as given, before the overrides</summary><pre>\(escape(original))</pre></details>")
        }
        html += ["<script>", sortScript, scaleScript, "</script>", "</body>", "</html>"]
        return html.joined(separator: "\n") + "\n"
    }

    /// A table; the first cell of a row whose trial is in `linked` links to its filter figure.
    static func table(_ table: Table, linked: Set<String>) -> String {
        var html = [##"<div class="scroll"><table class="sortable">"##, "<thead><tr>"]
        html += table.columns.map { "<th\($0.kind == .number ? #" class="num""# : "") title=\"sort by \(escape($0.title))\">\(escape($0.title))</th>" }
        html.append("</tr></thead><tbody>")
        for row in table.rows {
            html.append(row.flagged ? ##"<tr class="flagged">"## : "<tr>")
            for (index, (cell, column)) in zip(row.cells, table.columns).enumerated() {
                var text = escape(cell)
                var classes = column.kind == .number ? ["num"] : []
                if index == 0, let trialID = row.trialID {
                    classes.append("id")
                    // Long ids may break after their hyphens, so the flags stay on the page.
                    text = text.replacingOccurrences(of: "-", with: "-<wbr>")
                    if linked.contains(trialID) { text = ##"<a href="#\##(escape(anchor(trialID)))">\##(text)</a>"## }
                }
                if column.kind == .flags { classes.append("flags") }
                html.append("<td\(classes.isEmpty ? "" : ##" class="\##(classes.joined(separator: " "))""##)>\(text)</td>")
            }
            html.append("</tr>")
        }
        html.append("</tbody></table></div>")
        return html.joined(separator: "\n")
    }
}
