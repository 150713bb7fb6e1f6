import Foundation
import LoupeCore
import LoupeLab

/// The report's "Inside the network" section: for every trial with an inspection (`inspect:` in
/// the experiment file, or `loupe inspect`), its findings and the figures that say most: the
/// top images per layer, the projections, occlusion, invariance of the true class and the
/// evolution, embedded so the page stays one file; the rest is on the trial's own inspection page.
struct InsideTheNetwork: Sendable {
    struct Figure: Sendable {
        var title: String
        var caption: String
        /// `trials/<id>/inspect/<file>`, relative to the results folder.
        var path: String
        /// SVG text, or PNG bytes.
        var svg: String?
        var png: [UInt8]?
    }

    struct Trial: Sendable {
        var id: String
        var caption: String
        var notes: [String]
        /// `trials/<id>/inspect/index.html`
        var page: String
        var figures: [Figure]
    }

    var trials: [Trial]

    /// The sections shown in the report, in order; others stay on the inspection page.
    static let shown: Set<String> = ["top9", "deconv", "saliency", "occlusion", "evolution"]

    init(directory: URL, trialIDs: [String], captions: [String: String]) {
        let layout = ExperimentLayout(root: directory)
        trials = trialIDs.compactMap { id -> Trial? in
            let folder = layout.trial(id).inspection
            guard let manifest = try? InspectionManifest.read(folder) else { return nil }
            let base = "trials/\(id)/inspect/"
            let figures = manifest.figures.filter { figure in
                Self.shown.contains(figure.section) || (figure.section == "invariance" && figure.file.hasSuffix("-probability.svg"))
            }.compactMap { figure -> Figure? in
                let url = folder.appendingPathComponent(figure.file)
                if figure.file.hasSuffix(".svg") {
                    guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
                    // The XML declaration, if any, cannot sit inside HTML.
                    let svg = text.hasPrefix("<?xml") ? String(text.drop { $0 != "\n" }.dropFirst()) : text
                    return Figure(title: figure.title, caption: figure.caption, path: base + figure.file, svg: svg)
                }
                guard let data = try? Data(contentsOf: url) else { return nil }
                return Figure(title: figure.title, caption: figure.caption, path: base + figure.file, png: [UInt8](data))
            }
            return Trial(id: id, caption: captions[id] ?? id, notes: manifest.notes, page: base + InspectionManifest.page, figures: figures)
        }
    }

    static let note = "What each inspected trial's network learned, after Zeiler & Fergus (2014). Every projection is scaled on its own: mid-gray is zero, white the strongest positive value, black its negative. Each trial's inspection page (linked) has every figure, with its filters, feature maps, histograms and all invariance curves."

    func html() -> [String] {
        var html = [##"<h2 id="inside">Inside the network</h2>"##, ##"<p class="note">\##(HTML.escape(Self.note))</p>"##]
        for (n, trial) in trials.enumerated() {
            html.append(n == 0 ? "<details open>" : "<details>")
            html.append("<summary><code>\(HTML.escape(trial.id))</code> \(HTML.escape(trial.caption)) · <a href=\"\(HTML.escape(trial.page))\">inspection page</a></summary>")
            html += trial.notes.map { "<p class=\"note\">\(HTML.escape($0))</p>" }
            html.append(##"<div class="insight">"##)
            for figure in trial.figures {
                let body = figure.svg ?? "<img src=\"data:image/png;base64,\(Data(figure.png ?? []).base64EncodedString())\" alt=\"\(HTML.escape(figure.title))\">"
                html.append("<figure>\(body)<figcaption>\(HTML.escape(figure.caption))</figcaption></figure>")
            }
            html += ["</div>", "</details>"]
        }
        return html
    }

    func markdown() -> [String] {
        var lines = ["", "## Inside the network", "", Markdown.escape(Self.note)]
        for trial in trials {
            lines += ["", "### \(Markdown.escape(trial.id))", "", "\(Markdown.escape(trial.caption)): [inspection page](\(trial.page))"]
            lines += trial.notes.map { "" + "- " + Markdown.escape($0) }
            for figure in trial.figures {
                lines += ["", "![\(Markdown.escape(figure.title))](\(figure.path))", "", Markdown.escape(figure.caption)]
            }
        }
        return lines
    }
}
