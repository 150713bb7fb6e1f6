import LoupeCore
import LoupeData
import LoupeNN

/// Evaluating a model on a dataset: during a run (test accuracy, activation probes, confusion
/// matrix) and after it (`loupe eval`).
public enum Evaluation {
    /// Top-1 accuracy of `model` (evaluation mode) over every example of `dataset`.
    public static func accuracy(_ model: any Model, on dataset: Dataset) throws -> Double {
        try evaluate(model, on: dataset, classes: dataset.classCount).accuracy
    }

    /// Accuracy, activation statistics at `probePoints` (mean and population variance over
    /// every element, accumulated in Double) and, when asked, the confusion matrix, over the whole
    /// dataset in evaluation mode.
    public static func evaluate(_ model: any Model, on test: Dataset, classes: Int, probePoints: [String] = [],
                                confusion: Bool = false) throws
        -> (accuracy: Double, activations: [ActivationStatistics], confusion: [[Int]]?) {
        model.eval()
        defer { model.train() }
        var correct = 0
        var sums = [Double](repeating: 0, count: probePoints.count), squares = sums
        var counts = [Int](repeating: 0, count: probePoints.count)
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        let batchSize = 250
        for start in stride(from: 0, to: test.count, by: batchSize) {
            let (images, labels) = test.batch(indices: Array(start..<min(test.count, start + batchSize)))
            let (logits, captured) = try model.forward(images, capturing: Set(probePoints))
            let predictions = predictions(logits)
            for (prediction, label) in zip(predictions, labels) {
                if prediction == Int(label) { correct += 1 }
                if confusion && Int(label) < classes && prediction < classes { matrix[Int(label)][prediction] += 1 }
            }
            for (index, layer) in probePoints.enumerated() {
                captured[layer]!.withUnsafeBufferPointer { values in
                    var s = 0.0, q = 0.0
                    for v in values {
                        s += Double(v)
                        q += Double(v) * Double(v)
                    }
                    sums[index] += s
                    squares[index] += q
                    counts[index] += values.count
                }
            }
        }
        let statistics = probePoints.indices.map { i -> ActivationStatistics in
            let n = Double(max(counts[i], 1)), mean = sums[i] / n
            return ActivationStatistics(mean: mean, variance: max(0, squares[i] / n - mean * mean))
        }
        return (Double(correct) / Double(max(test.count, 1)), statistics, confusion ? matrix : nil)
    }

    /// The predicted class of each row of `logits` [N, classes].
    public static func predictions(_ logits: Tensor) -> [Int] {
        let classes = logits.shape[1]
        return logits.withUnsafeBufferPointer { values in
            (0..<logits.shape[0]).map { row in
                var best = 0
                for j in 1..<classes where values[row * classes + j] > values[row * classes + best] { best = j }
                return best
            }
        }
    }

    /// The share of rows of `logits` whose prediction is the label.
    public static func accuracy(_ logits: Tensor, _ labels: [Int32]) -> Double {
        let hits = zip(predictions(logits), labels).filter { $0 == Int($1) }.count
        return Double(hits) / Double(max(labels.count, 1))
    }
}
