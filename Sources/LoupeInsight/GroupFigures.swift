import Foundation
import LoupeCore
import LoupeData
import LoupeLab

// The report's figures per group of settings (trials that differ only in their seed): the
// confusion matrix summed over the seeds, the time per step and throughput, and the
// first-layer filters before and after training; and the parallel-coordinates view.
// Groups are labelled by `Tables.groupKeys`.

// MARK: Confusion matrices

/// One group's confusion matrix: rows the true class, columns the predicted one, the counts of
/// its seeds' test predictions summed.
struct GroupConfusion: Sendable {
    var label: String
    /// Trials whose matrices were summed.
    var trials: Int
    var classNames: [String]
    var counts: [[Int]]

    /// The groups whose trials all recorded a matrix of the same size (`probes.confusion`),
    /// in the groups' order, and the labels of the groups that did not.
    static func of(_ groups: [SeedGroup], trials: [TrialResult]) -> (matrices: [GroupConfusion], without: [String]) {
        let keys = Tables.groupKeys(trials)
        let byID = Dictionary(trials.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var matrices: [GroupConfusion] = [], without: [String] = []
        for group in groups {
            let label = TrialCurves.label(group, keys: keys)
            let members = group.trialIDs.compactMap { byID[$0] }.filter { $0.summary.testAccuracy != nil }
            let recorded = members.compactMap(\.summary.confusion)
            guard let first = recorded.first, recorded.count == members.count, !first.isEmpty,
                  recorded.allSatisfy({ $0.count == first.count && $0.allSatisfy { $0.count == first.count } }) else {
                if !members.isEmpty { without.append(label) }
                continue
            }
            var sum = first.map { $0.map { _ in 0 } }
            for matrix in recorded { for (i, row) in matrix.enumerated() { for (j, count) in row.enumerated() { sum[i][j] += count } } }
            matrices.append(GroupConfusion(label: label, trials: recorded.count, classNames: classNames(of: members, count: first.count), counts: sum))
        }
        return (matrices, without)
    }

    /// The names the trials recorded; for older summaries the catalog's names of the trial's
    /// `data.dataset`; else the class numbers.
    static func classNames(of trials: [TrialResult], count: Int) -> [String] {
        if let names = trials.lazy.compactMap(\.summary.classNames).first(where: { $0.count == count }) { return names }
        if let dataset = trials.first?.config["data.dataset"],
           let names = DatasetCatalog.standardEntries.first(where: { $0.name == dataset })?.classNames, names.count == count {
            return names
        }
        return (0..<count).map(String.init)
    }

    /// The matrix as an SVG heat map: each cell coloured by its share of the row (the true
    /// class's images), white to dark blue, with its count; class names down the left and
    /// across the top.
    func svg(identifier: String) -> String {
        let n = counts.count, cell = 26.0
        let longest = Double(classNames.map(\.count).max() ?? 1) * LineChart.characterWidth
        // The label a setting per line, so a long one is never cut by the figure's edge.
        let titleLines = label.components(separatedBy: ", ")
        let titleHeight = 16 * Double(titleLines.count)
        let left = 28 + longest + 8, top = titleHeight + 24 + longest * 0.72 + 8
        let width = max(left + Double(n) * cell + 16, 8 + 7.5 * Double(titleLines.map(\.count).max() ?? 0))
        let height = top + Double(n) * cell + 16
        func px(_ x: Double) -> String { String(format: "%.1f", x) }
        var svg = [##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(px(width))" height="\##(px(height))" viewBox="0 0 \##(px(width)) \##(px(height))" font-family="Helvetica, Arial, sans-serif" font-size="11" role="img" id="\##(HTML.escape(identifier))">"##]
        svg.append("<title>\(HTML.escape("Confusion matrix: " + label))</title>")
        svg.append(##"<rect width="100%" height="100%" fill="#ffffff"/>"##)
        for (index, line) in titleLines.enumerated() {
            svg.append(##"<text x="4" y="\##(px(16 + 16 * Double(index)))" font-size="13" font-weight="bold">\##(HTML.escape(line))</text>"##)
        }
        let total = counts.joined().reduce(0, +), correct = (0..<n).reduce(0) { $0 + counts[$1][$1] }
        svg.append(##"<text x="4" y="\##(px(titleHeight + 16))" fill="#555555">\##(trials) seed\##(trials == 1 ? "" : "s"), \##(total) test predictions, accuracy \##(NumberFormat.fraction(total > 0 ? Double(correct) / Double(total) : nil))</text>"##)
        svg.append(##"<text transform="translate(12 \##(px(top + Double(n) * cell / 2))) rotate(-90)" text-anchor="middle" fill="#555555">true class</text>"##)
        for (i, name) in classNames.enumerated() {
            let y = top + (Double(i) + 0.5) * cell
            svg.append(##"<text x="\##(px(left - 6))" y="\##(px(y))" text-anchor="end" dominant-baseline="middle">\##(HTML.escape(name))</text>"##)
            let x = left + (Double(i) + 0.5) * cell
            svg.append(##"<text transform="translate(\##(px(x + 3)) \##(px(top - 6))) rotate(-45)" text-anchor="start">\##(HTML.escape(name))</text>"##)
        }
        for (i, row) in counts.enumerated() {
            let rowTotal = row.reduce(0, +)
            for (j, count) in row.enumerated() {
                let share = rowTotal > 0 ? Double(count) / Double(rowTotal) : 0
                let (x, y) = (left + Double(j) * cell, top + Double(i) * cell)
                let fill = Self.blue(share), ink = share > 0.45 ? "#ffffff" : "#222222"
                let tip = "true \(classNames[i]), predicted \(classNames[j]): \(count) (\(String(format: "%.0f", share * 100))% of the row)"
                svg.append(##"<g><title>\##(HTML.escape(tip))</title><rect x="\##(px(x))" y="\##(px(y))" width="\##(px(cell))" height="\##(px(cell))" fill="\##(fill)" stroke="\##(i == j ? "#333333" : "#ffffff")"/>"##
                           + ##"<text x="\##(px(x + cell / 2))" y="\##(px(y + cell / 2))" text-anchor="middle" dominant-baseline="middle" font-size="\##(count >= 1000 ? 8 : 10)" fill="\##(ink)">\##(count)</text></g>"##)
            }
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// White (0) to dark blue (1), in the manner of matplotlib's "Blues".
    static func blue(_ share: Double) -> String {
        let t = min(max(share.isFinite ? share : 0, 0), 1)
        let (low, high) = ((247.0, 251.0, 255.0), (8.0, 48.0, 107.0))
        func mix(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * t).rounded()) }
        return String(format: "#%02x%02x%02x", mix(low.0, high.0), mix(low.1, high.1), mix(low.2, high.2))
    }
}

// MARK: Time per step and throughput

enum SpeedFigures {
    /// Per group: the wall time per training step (its trials' seconds over their steps, so
    /// periodic evaluations and checkpoints count) as mean ± sd over seeds, the examples per
    /// second that makes at the group's batch size, the training time, threads and kernels.
    static func table(_ groups: [SeedGroup], trials: [TrialResult]) -> Table {
        let keys = Tables.groupKeys(trials)
        let byID = Dictionary(trials.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var columns = keys.map { Table.Column(title: $0) }
        columns += [.init(title: "trials", kind: .number), .init(title: "ms/step", kind: .number), .init(title: "examples/s", kind: .number),
                    .init(title: "batch", kind: .number), .init(title: "steps", kind: .number), .init(title: "seconds", kind: .number),
                    .init(title: "threads"), .init(title: "kernels")]
        let rows = groups.compactMap { group -> Table.Row? in
            let members = group.trialIDs.compactMap { byID[$0] }
            let times = members.compactMap { $0.summary.millisecondsPerStep() }
            guard let milliseconds = Spread(times) else { return nil }
            let batch = members.compactMap { $0.config["train.batch_size"].flatMap(Int.init) }.first
            var cells = keys.map { group.settings[$0] ?? NumberFormat.missing }
            cells += [String(members.count), NumberFormat.meanAndSpread(milliseconds.mean, milliseconds.standardDeviation, asFraction: false),
                      batch.map { String(format: "%.0f", Double($0) * 1000 / milliseconds.mean) } ?? NumberFormat.missing,
                      batch.map(String.init) ?? NumberFormat.missing,
                      distinct(members.map { String($0.summary.steps) }),
                      String(format: "%.1f", members.map(\.summary.seconds).reduce(0, +) / Double(members.count)),
                      distinct(members.map { $0.summary.threads.map(String.init) ?? NumberFormat.missing }),
                      distinct(members.map { $0.summary.kernels?.description ?? NumberFormat.missing })]
            return Table.Row(cells: cells)
        }
        return Table(columns: columns, rows: rows)
    }

    static func distinct(_ values: [String]) -> String {
        values.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.joined(separator: ", ")
    }

    /// Milliseconds per step over training, per group: between consecutive rows of each
    /// trial's `metrics.csv` (its seconds column), the mean over the group's seeds at each step.
    static func chart(_ groups: [SeedGroup], trials: [TrialResult]) -> LineChart {
        let keys = Tables.groupKeys(trials)
        let byID = Dictionary(trials.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var series: [LineChart.Series] = []
        for (index, group) in groups.enumerated() {
            let curves = group.trialIDs.compactMap { byID[$0] }.map(stepTimes).filter { !$0.isEmpty }
            guard !curves.isEmpty else { continue }
            let mean = GroupCurves.spread(curves)
            series.append(.init(id: TrialCurves.label(group, keys: keys), points: mean.points, color: TrialCurves.color(index),
                                band: curves.count > 1 ? mean.band : []))
        }
        return LineChart(identifier: "speed", title: "Time per training step (mean over seeds, min–max band)", xLabel: "step",
                         yLabel: "ms per step", series: series)
    }

    /// Step → milliseconds per step since the row before; intervals a resume spans count like
    /// the others (the seconds are summed over sessions).
    static func stepTimes(_ trial: TrialResult) -> [Int: Double] {
        var times: [Int: Double] = [:]
        for (previous, row) in zip(trial.metrics, trial.metrics.dropFirst()) where row.step > previous.step {
            times[row.step] = (row.seconds - previous.seconds) * 1000 / Double(row.step - previous.step)
        }
        return times
    }
}

// MARK: First-layer filters before and after training

/// A group's first-layer filters: as initialised (the group's first trial's
/// `initial-filters.safetensors`) and after training (each trial's weights), each drawn twice,
/// every filter on its own scale and all of the group's on one scale.
struct GroupFilters: Sendable {
    struct Grid: Sendable {
        /// The trial whose filters these are (the anchor table rows link to), nil for "before".
        var trialID: String?
        var caption: String
        var fileName: String
        var own: [UInt8]
        var shared: [UInt8]
    }

    var label: String
    var grids: [Grid]
    /// The shared scale's limit: ±this is black and white.
    var limit: Double

    /// The Markdown twin's image of a grid (its own-scale drawing).
    static func fileName(_ trialID: String, initial: Bool) -> String { "filters-\(trialID)\(initial ? "-initial" : "").png" }

    /// One entry per group with first-layer weights, in the groups' order; the trials without.
    static func of(_ groups: [SeedGroup], trials: [TrialResult], layout: ExperimentLayout, scale: Int) throws
        -> (groups: [GroupFilters], without: [String]) {
        let keys = Tables.groupKeys(trials)
        let byID = Dictionary(trials.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var result: [GroupFilters] = [], without: [String] = []
        for group in groups {
            // In seed order, so "before" is the first seed's.
            let members = group.trialIDs.compactMap { byID[$0] }.sorted {
                ($0.summary.settings[SeedGroup.seedKey].flatMap(Double.init) ?? 0, $0.id) < ($1.summary.settings[SeedGroup.seedKey].flatMap(Double.init) ?? 0, $1.id)
            }
            let trained = members.filter { $0.firstLayer != nil }
            without += members.filter { $0.firstLayer == nil }.map(\.id)
            guard let first = trained.first, let name = first.firstLayer?.name else { continue }
            let initial = first.initialFirstLayer
            let tensors = trained.map { $0.firstLayer!.filters } + (initial.map { [$0] } ?? [])
            let limit = FilterGrid.sharedLimit(tensors)
            func grid(_ tensor: Tensor, trial: TrialResult, initial: Bool) throws -> Grid {
                do {
                    let own = try FilterGrid(filters: tensor, scale: scale)
                    let shared = try FilterGrid(filters: tensor, scale: scale, normalization: .shared(limit: limit))
                    let seed = trial.summary.settings[SeedGroup.seedKey].map { "seed \($0)" } ?? trial.id
                    var caption = initial ? "before training (\(seed), step 0)"
                        : "after \(trial.summary.steps) steps (\(seed)), test acc \(NumberFormat.fraction(trial.summary.testAccuracy))"
                    if own.nonFiniteCount > 0 { caption += "; \(own.nonFiniteCount) non-finite values drawn black" }
                    return Grid(trialID: initial ? nil : trial.id, caption: caption,
                                fileName: fileName(trial.id, initial: initial),
                                own: try PNG.encode(own.image), shared: try PNG.encode(shared.image))
                } catch let error as LoupeError {
                    let file = initial ? layout.trial(trial.id).initialFilters : layout.trial(trial.id).weights
                    throw LoupeError.file(path: file.path, message: "\(name): \(error)")
                }
            }
            var grids: [Grid] = []
            if let initial { grids.append(try grid(initial, trial: first, initial: true)) }
            for trial in trained { grids.append(try grid(trial.firstLayer!.filters, trial: trial, initial: false)) }
            let shape = first.firstLayer!.filters.shape.map(String.init).joined(separator: "×")
            result.append(GroupFilters(label: TrialCurves.label(group, keys: keys) + " — \(name) \(shape)", grids: grids, limit: limit))
        }
        return (result, without)
    }
}

// MARK: Parallel coordinates

/// Settings against test accuracy, one polyline per trial: an axis per swept setting (its
/// values in order, evenly spaced; numbers in numeric order) and a last axis of test accuracy;
/// each line coloured by its accuracy (viridis). Trials without one (diverged, failed) end at
/// "none" below the accuracy axis, dashed red.
enum ParallelCoordinates {
    static func svg(_ trials: [TrialResult]) -> String? {
        let keys = Tables.groupKeys(trials)
        guard !keys.isEmpty, trials.count > 1 else { return nil }
        let values = keys.map { key -> [String] in
            let present = Set(trials.compactMap { $0.summary.settings[key] })
            let numbers = present.compactMap(Double.init)
            return numbers.count == present.count ? present.sorted { Double($0)! < Double($1)! } : present.sorted()
        }
        let accuracies = trials.compactMap(\.summary.testAccuracy)
        let axis = ChartAxis.linear(covering: accuracies.isEmpty ? [0, 1] : accuracies)
        let (low, high) = (accuracies.min() ?? 0, accuracies.max() ?? 1)

        let spacing = 170.0, left = 40.0, top = 56.0, plot = 300.0, bottom = top + plot
        let labelWidth = Double(values.joined().map(\.count).max() ?? 4) * LineChart.characterWidth
        let height = bottom + 50
        func px(_ x: Double) -> String { String(format: "%.1f", x) }
        func x(_ axisIndex: Int) -> Double { left + labelWidth + spacing * Double(axisIndex) }
        func y(_ index: Int, of count: Int) -> Double { count == 1 ? top + plot / 2 : bottom - plot * Double(index) / Double(count - 1) }
        let accuracyX = x(keys.count), noneY = bottom + 28, barX = accuracyX + 72, width = barX + 60
        func accuracyY(_ value: Double?) -> Double { value.map { axis.position(of: $0, from: bottom, to: top) } ?? noneY }

        var svg = [##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(px(width))" height="\##(px(height))" viewBox="0 0 \##(px(width)) \##(px(height))" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img">"##]
        svg.append("<title>Settings against test accuracy</title>")
        svg.append(##"<rect width="100%" height="100%" fill="#ffffff"/>"##)
        svg.append(##"<text x="\##(px(left))" y="22" font-size="14" font-weight="bold">Settings against test accuracy (one line per trial)</text>"##)
        // Worst first, so the best lines are drawn on top.
        let ordered = trials.sorted { ($0.summary.testAccuracy ?? -1, $0.id) < ($1.summary.testAccuracy ?? -1, $1.id) }
        svg.append(##"<g fill="none" stroke-width="1.6" stroke-opacity="0.85">"##)
        for trial in ordered {
            var points: [String] = []
            for (index, key) in keys.enumerated() {
                guard let value = trial.summary.settings[key], let position = values[index].firstIndex(of: value) else { continue }
                points.append(px(x(index)) + " " + px(y(position, of: values[index].count)))
            }
            let accuracy = trial.summary.testAccuracy
            points.append(px(accuracyX) + " " + px(accuracyY(accuracy)))
            let colour = accuracy.map { ColourMap.viridisHex(high > low ? ($0 - low) / (high - low) : 1) } ?? "#d62728"
            let dash = accuracy == nil ? ##" stroke-dasharray="5 4""## : ""
            let tip = "\(trial.id): test accuracy \(NumberFormat.fraction(accuracy))"
            svg.append(##"<path d="M\##(points.joined(separator: "L"))" stroke="\##(colour)"\##(dash)><title>\##(HTML.escape(tip))</title></path>"##)
        }
        svg.append("</g>")
        // Axes over the lines.
        for (index, key) in keys.enumerated() {
            let ax = x(index)
            svg.append(##"<line x1="\##(px(ax))" y1="\##(px(top))" x2="\##(px(ax))" y2="\##(px(bottom))" stroke="#333333"/>"##)
            svg.append(##"<text x="\##(px(ax))" y="\##(px(top - 14))" text-anchor="middle" font-weight="bold">\##(HTML.escape(key))</text>"##)
            for (position, value) in values[index].enumerated() {
                let ty = y(position, of: values[index].count)
                svg.append(##"<line x1="\##(px(ax - 4))" y1="\##(px(ty))" x2="\##(px(ax))" y2="\##(px(ty))" stroke="#333333"/>"##)
                svg.append(##"<text x="\##(px(ax - 7))" y="\##(px(ty))" text-anchor="end" dominant-baseline="middle" paint-order="stroke" stroke="#ffffff" stroke-width="3">\##(HTML.escape(value))</text>"##)
            }
        }
        svg.append(##"<line x1="\##(px(accuracyX))" y1="\##(px(top))" x2="\##(px(accuracyX))" y2="\##(px(bottom))" stroke="#333333"/>"##)
        svg.append(##"<text x="\##(px(accuracyX))" y="\##(px(top - 14))" text-anchor="middle" font-weight="bold">test accuracy</text>"##)
        for tick in axis.ticks {
            let ty = axis.position(of: tick, from: bottom, to: top)
            svg.append(##"<line x1="\##(px(accuracyX))" y1="\##(px(ty))" x2="\##(px(accuracyX + 4))" y2="\##(px(ty))" stroke="#333333"/>"##)
            svg.append(##"<text x="\##(px(accuracyX + 7))" y="\##(px(ty))" dominant-baseline="middle">\##(ChartAxis.label(tick))</text>"##)
        }
        if trials.contains(where: { $0.summary.testAccuracy == nil }) {
            svg.append(##"<text x="\##(px(accuracyX + 7))" y="\##(px(noneY))" dominant-baseline="middle" fill="#d62728">none</text>"##)
        }
        // The colour scale.
        svg.append(##"<defs><linearGradient id="parallel-scale" x1="0" y1="1" x2="0" y2="0">"##
                   + (0...8).map { ##"<stop offset="\##(Double($0) / 8)" stop-color="\##(ColourMap.viridisHex(Double($0) / 8))"/>"## }.joined()
                   + "</linearGradient></defs>")
        svg.append(##"<rect x="\##(px(barX))" y="\##(px(top))" width="12" height="\##(px(plot))" fill="url(#parallel-scale)"/>"##)
        svg.append(##"<text x="\##(px(barX + 6))" y="\##(px(top - 14))" text-anchor="middle">colour</text>"##)
        svg.append(##"<text x="\##(px(barX + 16))" y="\##(px(top + 6))" font-size="11">\##(NumberFormat.fraction(high))</text>"##)
        svg.append(##"<text x="\##(px(barX + 16))" y="\##(px(bottom))" font-size="11">\##(NumberFormat.fraction(low))</text>"##)
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
