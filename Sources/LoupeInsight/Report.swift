import Foundation
import LoupeCore
import LoupeLab

/// What the report may be tuned by.
public struct ReportOptions: Sendable {
    /// A trial whose train accuracy exceeds its test accuracy by more than this is flagged
    /// as overfitting.
    public var overfittingGap: Double
    /// Enlargement of each filter weight in the filter grids, in pixels.
    public var filterScale: Int

    public init(overfittingGap: Double = 0.25, filterScale: Int = FilterGrid.defaultScale) {
        self.overfittingGap = overfittingGap
        self.filterScale = filterScale
    }
}

/// `loupe report DIR`: one page about an experiment's results folder (see `ExperimentLayout`).
///
/// It shows the results table (one row per trial: varying settings, status, test and train
/// accuracy, activation statistics, time, flags), mean ± standard deviation over seeds, loss and
/// accuracy curves of every trial overlaid, each trial's first-layer filters, and the experiment
/// file verbatim. Flags mark diverged and failed trials, overfitting (train − test accuracy above
/// `ReportOptions.overfittingGap`) and trials whose results are bit-identical to another's.
///
///     DIR/report.html               self-contained: inline CSS and SVG, PNGs as data URIs
///     DIR/report.md                 the same in Markdown, its images in DIR/report/
///     DIR/report/loss.svg, accuracy.svg, filters-<id>.png
public enum Report {
    public static let htmlFile = "report.html"
    public static let markdownFile = "report.md"
    public static let imageFolder = "report"

    /// Writes the report files into `directory` (each atomically, removing the temporary files a
    /// crash of an earlier report left) and returns where the page and its Markdown twin are. Throws `LoupeError.file` naming the folder or file that is missing
    /// or unreadable (no such folder, no trials, a bad summary, metrics or weights file).
    ///
    /// `destination`: a file ending in `.html` (its Markdown twin `.md` and an image folder of
    /// the same base name beside it) or a folder (created if needed); default the results folder.
    @discardableResult
    public static func write(experiment directory: URL, to destination: URL? = nil,
                             options: ReportOptions = ReportOptions()) throws -> (html: URL, markdown: URL) {
        let content = try ReportContent(ExperimentResults.read(directory), options: options)
        let (folder, base) = try place(destination ?? directory)
        let htmlName = base + ".html", markdownName = base + ".md", imageFolderName = base
        let images = folder.appendingPathComponent(imageFolderName)
        // What a crash of an earlier report left: only the report's own files, so a run still
        // writing into the folder is not disturbed.
        AtomicFile.removeLeftovers(in: folder, replacing: [htmlName, markdownName])
        AtomicFile.removeLeftovers(in: images)
        try writeAtomically(Data(content.lossChart.utf8), to: images.appendingPathComponent(ReportContent.lossFile))
        try writeAtomically(Data(content.accuracyChart.utf8), to: images.appendingPathComponent(ReportContent.accuracyFile))
        try writeAtomically(Data(content.groupLossChart.utf8), to: images.appendingPathComponent(ReportContent.groupLossFile))
        try writeAtomically(Data(content.groupAccuracyChart.utf8), to: images.appendingPathComponent(ReportContent.groupAccuracyFile))
        for chart in content.axisCharts { try writeAtomically(Data(chart.svg.utf8), to: images.appendingPathComponent(chart.fileName)) }
        if let parallel = content.parallelCoordinates {
            try writeAtomically(Data(parallel.utf8), to: images.appendingPathComponent(ReportContent.parallelFile))
        }
        for (index, svg) in content.confusionCharts.enumerated() {
            try writeAtomically(Data(svg.utf8), to: images.appendingPathComponent(ReportContent.confusionFile(index)))
        }
        try writeAtomically(Data(content.speedChart.utf8), to: images.appendingPathComponent(ReportContent.speedFile))
        let grids = content.filters.flatMap(\.grids)
        for grid in grids {
            try writeAtomically(Data(grid.own), to: images.appendingPathComponent(grid.fileName))
        }
        removeStaleImages(in: images, keeping: Set(grids.map(\.fileName) + content.confusionCharts.indices.map(ReportContent.confusionFile)))
        let markdown = folder.appendingPathComponent(markdownName)
        try writeAtomically(Data(Markdown.document(content, imageFolder: imageFolderName).utf8), to: markdown)
        let html = folder.appendingPathComponent(htmlName)
        try writeAtomically(Data(HTML.page(content).utf8), to: html)
        return (html, markdown)
    }

    /// The folder and base name (`report`) a destination means; throws naming `--out` when it
    /// is an existing file that is not a page, or a folder that cannot be made.
    static func place(_ destination: URL) throws -> (folder: URL, base: String) {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: destination.path, isDirectory: &isFolder)
        if destination.pathExtension.lowercased() == "html" && !(exists && isFolder.boolValue) {
            let folder = destination.deletingLastPathComponent()
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
                throw LoupeError.invalidArgument(name: "--out", message: "\(folder.path) does not exist or is not a folder")
            }
            return (folder, destination.deletingPathExtension().lastPathComponent)
        }
        if exists && !isFolder.boolValue {
            throw LoupeError.invalidArgument(name: "--out", message: "\(destination.path) is a file; give a folder or a path ending in .html")
        }
        do { try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true) } catch {
            throw LoupeError.invalidArgument(name: "--out", message: "\(destination.path) cannot be made as a folder")
        }
        return (destination, "report")
    }

    /// Filter grids of trials and confusion matrices of groups no longer in the folder, left by
    /// an earlier report.
    static func removeStaleImages(in folder: URL, keeping current: Set<String>) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where !current.contains(name)
            && ((name.hasPrefix("filters-") && name.hasSuffix(".png")) || (name.hasPrefix("confusion-") && name.hasSuffix(".svg"))) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }
}
