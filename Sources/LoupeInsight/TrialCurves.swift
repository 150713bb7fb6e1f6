import Foundation
import LoupeLab

/// The report's two charts, every trial overlaid: loss vs step and minibatch accuracy vs step.
/// Trials that differ only in their seed share a colour; the seed sets the line's dash pattern.
/// The accuracy chart marks each trial's test accuracy at its last step, so a train/test gap
/// shows as a dot far below the end of its curve.
enum TrialCurves {
    /// Tableau 10, then evenly spread hues.
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
    static let dashes: [String?] = [nil, "7 4", "2 3", "10 3 2 3"]

    static func color(_ index: Int) -> String {
        if index < palette.count { return palette[index] }
        // Golden-angle hues at fixed saturation and lightness.
        let hue = (Double(index - palette.count) * 137.508).truncatingRemainder(dividingBy: 360)
        return hexColor(hue: hue, saturation: 0.55, lightness: 0.45)
    }

    static func hexColor(hue: Double, saturation: Double, lightness: Double) -> String {
        let chroma = (1 - abs(2 * lightness - 1)) * saturation
        let sector = hue / 60, second = chroma * (1 - abs(sector.truncatingRemainder(dividingBy: 2) - 1))
        let (r, g, b): (Double, Double, Double)
        switch Int(sector) {
        case 0: (r, g, b) = (chroma, second, 0)
        case 1: (r, g, b) = (second, chroma, 0)
        case 2: (r, g, b) = (0, chroma, second)
        case 3: (r, g, b) = (0, second, chroma)
        case 4: (r, g, b) = (second, 0, chroma)
        default: (r, g, b) = (chroma, 0, second)
        }
        let offset = lightness - chroma / 2
        return "#" + [r, g, b].map { String(format: "%02x", Int((($0 + offset) * 255).rounded())) }.joined()
    }

    /// `optimizer.name=adam, optimizer.lr=0.001`: the group's values for the varying keys.
    static func label(_ group: SeedGroup, keys: [String]) -> String {
        let parts = keys.compactMap { key in group.settings[key].map { "\(key)=\($0)" } }
        return parts.isEmpty ? "all trials" : parts.joined(separator: ", ")
    }

    /// Loss and accuracy charts for `trials`, coloured by `groups`.
    static func charts(_ trials: [TrialResult], groups: [SeedGroup]) -> (loss: LineChart, accuracy: LineChart) {
        let keys = Tables.groupKeys(trials)
        var groupIndex: [String: Int] = [:]
        for (index, group) in groups.enumerated() { for id in group.trialIDs { groupIndex[id] = index } }
        let seeds = Set(trials.compactMap { $0.summary.settings[SeedGroup.seedKey] })
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        func dash(_ trial: TrialResult) -> String? {
            guard let seed = trial.summary.settings[SeedGroup.seedKey], let index = seeds.firstIndex(of: seed) else { return nil }
            return dashes[index % dashes.count]
        }

        var lossSeries: [LineChart.Series] = [], accuracySeries: [LineChart.Series] = []
        for trial in Tables.ordered(trials) {
            let color = color(groupIndex[trial.id] ?? 0)
            let steps = trial.metrics.map { Double($0.step) }
            lossSeries.append(.init(id: trial.id, points: zip(steps, trial.metrics).map { .init(x: $0, y: $1.loss) },
                                    color: color, dash: dash(trial)))
            let lastStep = trial.metrics.last.map { Double($0.step) } ?? Double(trial.summary.steps)
            let test = trial.summary.testAccuracy.map { [LineChart.Point(x: lastStep, y: $0)] } ?? []
            accuracySeries.append(.init(id: trial.id, points: zip(steps, trial.metrics).map { .init(x: $0, y: $1.accuracy) },
                                        markers: test, color: color, dash: dash(trial)))
        }

        // Groups with no logged step draw nothing, so they get no legend entry either.
        let drawn = Set(trials.filter { !$0.metrics.isEmpty }.map(\.id))
        var legend = groups.enumerated().filter { !drawn.isDisjoint(with: $0.element.trialIDs) }
            .map { LineChart.LegendEntry(label: label($0.element, keys: keys), color: color($0.offset)) }
        if seeds.count > 1 {
            legend += seeds.enumerated().map { LineChart.LegendEntry(label: "seed \($1)", color: "#555555", dash: dashes[$0 % dashes.count]) }
        }
        let losses = trials.flatMap { $0.metrics.map(\.loss) }.filter { $0.isFinite }
        let logarithmic = (losses.min() ?? 0) > 0 && (losses.max() ?? 0) / (losses.min() ?? 1) >= 10
        let loss = LineChart(identifier: "loss", title: "Training loss", xLabel: "step", yLabel: "loss (minibatch)",
                             series: lossSeries, legend: legend, logarithmicY: logarithmic)
        let accuracyLegend = legend + [LineChart.LegendEntry(label: "test accuracy (at last step)", color: "#555555", marker: true)]
        let accuracy = LineChart(identifier: "accuracy", title: "Accuracy", xLabel: "step", yLabel: "accuracy (minibatch)",
                                 series: accuracySeries, legend: accuracyLegend, yRange: 0...1)
        return (loss, accuracy)
    }
}
