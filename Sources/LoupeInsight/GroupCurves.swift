import Foundation
import LoupeLab

/// Curves per group of settings: at each logged step the mean over the group's seeds, with a
/// band from the lowest to the highest seed, after TensorBoard's smoothing (an exponential moving
/// average with weight `smoothing`, debiased at the start, applied to each seed's curve first).
/// Evaluations over a whole split (validation, else test) are drawn unsmoothed.
enum GroupCurves {
    /// TensorBoard's default slider value.
    static let smoothing = 0.6

    /// `values` smoothed as TensorBoard's scalar dashboard does: s = w·s + (1 − w)·x, divided by
    /// 1 − wⁿ after n values so the first points are not pulled towards 0. Non-finite values
    /// pass through and do not enter the average.
    static func smoothed(_ values: [Double], weight: Double = smoothing) -> [Double] {
        var average = 0.0, count = 0.0
        return values.map { value in
            guard value.isFinite else { return value }
            average = average * weight + (1 - weight) * value
            count += 1
            return average / (1 - pow(weight, count))
        }
    }

    /// Mean and min–max over `curves` (step → value) at the steps every curve has.
    static func spread(_ curves: [[Int: Double]]) -> (points: [LineChart.Point], band: [LineChart.Range]) {
        guard let first = curves.first else { return ([], []) }
        let steps = first.keys.filter { step in curves.allSatisfy { $0[step]?.isFinite == true } }.sorted()
        var points: [LineChart.Point] = [], band: [LineChart.Range] = []
        for step in steps {
            let values = curves.map { $0[step]! }
            points.append(.init(x: Double(step), y: values.reduce(0, +) / Double(values.count)))
            band.append(.init(x: Double(step), low: values.min()!, high: values.max()!))
        }
        return (points, band)
    }

    static func charts(_ trials: [TrialResult], groups: [SeedGroup]) -> (loss: LineChart, accuracy: LineChart) {
        let keys = Tables.groupKeys(trials)
        let byID = Dictionary(trials.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var lossSeries: [LineChart.Series] = [], accuracySeries: [LineChart.Series] = []
        var legend: [LineChart.LegendEntry] = []
        var sawEvaluations = false, sawValidation = false
        for (index, group) in groups.enumerated() {
            let members = group.trialIDs.compactMap { byID[$0] }.filter { !$0.metrics.isEmpty }
            guard !members.isEmpty else { continue }
            let color = TrialCurves.color(index), label = TrialCurves.label(group, keys: keys)
            func curve(_ trial: TrialResult, _ value: (MetricRow) -> Double) -> [Int: Double] {
                Dictionary(zip(trial.metrics.map(\.step), smoothed(trial.metrics.map(value))), uniquingKeysWith: { $1 })
            }
            let loss = spread(members.map { curve($0, \.loss) })
            lossSeries.append(.init(id: label, points: loss.points, color: color, band: members.count > 1 ? loss.band : []))
            let accuracy = spread(members.map { curve($0, \.accuracy) })
            accuracySeries.append(.init(id: label, points: accuracy.points, color: color, band: members.count > 1 ? accuracy.band : []))
            // Evaluations over a whole split, and the final test accuracy at the last step.
            let validation = members.allSatisfy { $0.evaluations.contains { $0.validationAccuracy != nil } }
            let evaluated = members.map { trial in
                Dictionary(trial.evaluations.map { ($0.step, validation ? $0.validationAccuracy ?? .nan : $0.testAccuracy) }, uniquingKeysWith: { $1 })
            }
            if evaluated.allSatisfy({ !$0.isEmpty }) {
                let measured = spread(evaluated)
                sawEvaluations = true
                sawValidation = sawValidation || validation
                accuracySeries.append(.init(id: label + (validation ? " (validation)" : " (test)"), points: measured.points, markers: measured.points,
                                            color: color, dash: "2 3", band: members.count > 1 ? measured.band : []))
            }
            let tests = members.compactMap(\.summary.testAccuracy)
            if !tests.isEmpty, let last = members.compactMap({ $0.metrics.last?.step }).max() {
                accuracySeries.append(.init(id: label + " (final test accuracy)", points: [], markers: [.init(x: Double(last), y: tests.reduce(0, +) / Double(tests.count))],
                                            color: color, errorBars: tests.count > 1 ? [.init(x: Double(last), low: tests.min()!, high: tests.max()!)] : []))
            }
            legend.append(.init(label: label + (group.trialIDs.count > 1 ? " (\(group.trialIDs.count) seeds)" : ""), color: color))
        }
        let losses = lossSeries.flatMap { $0.points.map(\.y) + $0.band.flatMap { [$0.low, $0.high] } }.filter { $0.isFinite }
        let logarithmic = (losses.min() ?? 0) > 0 && (losses.max() ?? 0) / (losses.min() ?? 1) >= 10
        let lossChart = LineChart(identifier: "group-loss", title: "Training loss per group (mean over seeds, min–max band)", xLabel: "step",
                                  yLabel: "loss (minibatch, EMA \(smoothing))", series: lossSeries, legend: legend, logarithmicY: logarithmic)
        var accuracyLegend = legend
        if sawEvaluations {
            accuracyLegend.append(.init(label: sawValidation ? "validation accuracy (evaluations)" : "test accuracy (evaluations)", color: "#555555", dash: "2 3"))
        }
        accuracyLegend.append(.init(label: "final test accuracy (mean, min–max)", color: "#555555", marker: true))
        let accuracyChart = LineChart(identifier: "group-accuracy", title: "Accuracy per group (mean over seeds, min–max band)", xLabel: "step",
                                      yLabel: "accuracy (minibatch, EMA \(smoothing))", series: accuracySeries, legend: accuracyLegend)
        return (lossChart, accuracyChart)
    }
}

/// Test accuracy against each numeric swept setting (the optimizer study's figure): one line
/// per combination of the other swept settings, at each value the mean over seeds with error
/// bars of ± one sample standard deviation. A setting whose values are positive and span a
/// factor of ten or more (learning rates) gets a logarithmic axis.
enum SweepAxisCharts {
    static func charts(_ trials: [TrialResult], groups: [SeedGroup]) -> [(key: String, chart: LineChart)] {
        let keys = Tables.groupKeys(trials)
        var result: [(String, LineChart)] = []
        for key in keys {
            let values = trials.compactMap { $0.summary.settings[key] }
            let numbers = values.compactMap(Double.init)
            guard numbers.count == values.count, Set(numbers).count >= 2 else { continue }
            let others = keys.filter { $0 != key }
            var lines: [String: [SeedGroup]] = [:]
            for group in groups where group.testAccuracy != nil {
                let label = others.compactMap { other in group.settings[other].map { "\(other)=\($0)" } }.joined(separator: ", ")
                lines[label.isEmpty ? "all" : label, default: []].append(group)
            }
            var series: [LineChart.Series] = []
            for (index, label) in lines.keys.sorted().enumerated() {
                let members = lines[label]!.compactMap { group -> (x: Double, spread: Spread)? in
                    guard let x = group.settings[key].flatMap(Double.init), let spread = group.testAccuracy else { return nil }
                    return (x, spread)
                }.sorted { $0.x < $1.x }
                let points = members.map { LineChart.Point(x: $0.x, y: $0.spread.mean) }
                let bars = members.compactMap { member in
                    member.spread.standardDeviation.map { LineChart.Range(x: member.x, low: member.spread.mean - $0, high: member.spread.mean + $0) }
                }
                series.append(.init(id: label, points: points, markers: points, color: TrialCurves.color(index), errorBars: bars))
            }
            var chart = LineChart(identifier: "axis-\(key)", title: "Test accuracy against \(key)", xLabel: key,
                                  yLabel: "test accuracy (mean ± sd over seeds)", series: series)
            chart.logarithmicX = numbers.allSatisfy { $0 > 0 } && (numbers.max()! / numbers.min()!) >= 10
            result.append((key, chart))
        }
        return result
    }
}
