import Foundation
import LoupeCore
import LoupeLab
import LoupeNN
@testable import LoupeInsight

/// A results folder written the way `loupe run` writes one, with made-up numbers chosen so that
/// each flag has exactly one cause:
///
///     adam-s0, adam-s1, adam-s2   adam lr 0.001, seeds 0–2: test 0.40, 0.42, 0.44 (mean 0.42, sd 0.02)
///     long-s0                     5,000 steps: train 0.97, test 0.42 → overfitting (gap 0.55)
///     sgd-s0                      sgd lr 1: loss NaN from step 120 → diverged at step 120
///     copy-s0                     other settings, but every measurement is adam-s1's → identical
///     broken-s0                   failed, no metrics and no weights
struct SyntheticExperiment {
    let root: URL

    static let normalIDs = ["adam-s0", "adam-s1", "adam-s2"]
    static let allIDs = normalIDs + ["long-s0", "sgd-s0", "copy-s0", "broken-s0"]
    static let yaml = """
    name: synthetic # a <test> & "quotes"
    optimizer: {name: adam, lr: 1.0e-3}
    sweep:
      optimizer.lr: [1.0e-3, 1.0]
      seeds: [0, 1, 2]

    """

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-insight-\(UUID().uuidString)")
        let layout = ExperimentLayout(root: root)
        try FileManager.default.createDirectory(at: layout.trialsFolder, withIntermediateDirectories: true)
        try Data(Self.yaml.utf8).write(to: layout.experimentFile)

        let adam = { (seed: String) in ["optimizer.name": "adam", "optimizer.lr": "0.001", "train.steps": "300", "train.seed": seed] }
        for (index, accuracy) in [0.40, 0.42, 0.44].enumerated() {
            var trial = summary(test: accuracy, train: accuracy + 0.05, finalLoss: 1.5 + Double(index) / 10,
                                conv1: 0.05 + Double(index) / 100, settings: adam(String(index)))
            trial.confusion = Self.confusion(seed: index)
            if index == 1 { trial.classNames = Self.classNames }
            try write("adam-s\(index)", trial, losses: curve(start: 2.3, end: 1.5 + Double(index) / 10, steps: 300), seed: Float(index))
            try Data("train: {steps: 300, batch_size: 50, seed: \(index)}\n".utf8).write(to: layout.trial("adam-s\(index)").config)
        }
        // adam-s0 kept its filters as initialised: a tenth of its trained ones.
        try Safetensors.write([(name: "conv1.weight", tensor: Self.filters(seed: 0) * 0.1)], to: layout.trial("adam-s0").initialFilters)
        var long = adam("0")
        long["train.steps"] = "5000"
        try write("long-s0", summary(test: 0.42, train: 0.97, finalLoss: 0.08, conv1: 0.3, settings: long, steps: 5000),
                  losses: curve(start: 2.3, end: 0.08, steps: 5000), seed: 7)

        var diverged = summary(test: nil, train: nil, finalLoss: .nan, conv1: nil,
                               settings: ["optimizer.name": "sgd", "optimizer.lr": "1", "train.steps": "300", "train.seed": "0"])
        diverged.status = .diverged
        diverged.divergedAtStep = 120
        diverged.steps = 120
        let divergedLosses = curve(start: 2.3, end: 40, steps: 110) + [.nan]
        try write("sgd-s0", diverged, losses: divergedLosses, seed: 9)

        // The copy: adam-s1's measurements under other settings.
        let original = try TrialSummary.read(layout.trial("adam-s1").summary)
        var copy = original
        copy.id = "copy-s0"
        copy.settings = ["optimizer.name": "adam", "optimizer.lr": "0.01", "train.steps": "300", "train.seed": "0"]
        try write("copy-s0", copy, losses: curve(start: 2.3, end: 1.6, steps: 300), seed: 1)

        var broken = summary(test: nil, train: nil, finalLoss: nil, conv1: nil,
                             settings: ["optimizer.name": "rmsprop", "optimizer.lr": "0.001", "train.steps": "300", "train.seed": "0"])
        broken.status = .failed
        broken.error = "dataset cifar10-gray28 not found"
        broken.steps = 0
        try FileManager.default.createDirectory(at: layout.trial("broken-s0").root, withIntermediateDirectories: true)
        try broken.write(to: layout.trial("broken-s0").summary)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// The adam trials' three classes; only adam-s1's summary records them.
    static let classNames = ["cat", "dog", "bird"]

    /// A 3-class confusion matrix per adam seed, 1,000 images per class (so the accuracies,
    /// 0.40–0.44, are far from chance's 1/3): seed k puts 100·(k + 1) cats among the dogs.
    static func confusion(seed: Int) -> [[Int]] { [[900 - 100 * seed, 100 * (seed + 1), 0], [200, 800, 0], [0, 0, 1000]] }

    /// conv1.weight [5, 5, 1, 32] of the trial written with `seed`.
    static func filters(seed: Float) throws -> Tensor {
        try Tensor(shape: [5, 5, 1, 32], scalars: (0..<800).map { sin(Float($0) * 0.37 + seed) })
    }

    func summary(test: Double?, train: Double?, finalLoss: Double?, conv1: Double?, settings: [String: String],
                 steps: Int = 300) -> TrialSummary {
        let activations = conv1.map { ["conv1": ActivationStatistics(mean: $0, variance: $0 * 2), "conv2": ActivationStatistics(mean: 0.1, variance: 0.02)] } ?? [:]
        return TrialSummary(id: "", status: .completed, steps: steps, seconds: Double(steps) / 10, testAccuracy: test,
                            trainAccuracy: train, finalLoss: finalLoss, activations: activations, parameters: 3_274_634,
                            settings: settings)
    }

    /// Losses every 10 steps falling geometrically from `start` to `end`.
    func curve(start: Double, end: Double, steps: Int) -> [Double] {
        let count = steps / 10
        return (0..<count).map { start * pow(end / start, Double($0) / Double(max(1, count - 1))) }
    }

    /// Writes a trial's summary (with its folder name as id), metrics and a conv1.weight [5, 5, 1, 32].
    func write(_ id: String, _ summary: TrialSummary, losses: [Double], seed: Float) throws {
        let trial = ExperimentLayout(root: root).trial(id)
        try FileManager.default.createDirectory(at: trial.root, withIntermediateDirectories: true)
        var summary = summary
        if summary.id.isEmpty { summary.id = id }
        try summary.write(to: trial.summary)
        let rows = losses.enumerated().map { index, loss in
            MetricRow(step: (index + 1) * 10, loss: loss, accuracy: min(1, 0.1 + Double(index) / Double(losses.count)),
                      learningRate: 0.001, seconds: Double(index))
        }
        try Data(([MetricRow.header] + rows.map(\.csvLine)).joined(separator: "\n").appending("\n").utf8).write(to: trial.metrics)
        let filters = try Self.filters(seed: seed)
        let dense = Tensor.zeros([4, 3])
        try Safetensors.write([(name: "conv1.weight", tensor: filters), (name: "fc1.weight", tensor: dense)], to: trial.weights)
    }
}
