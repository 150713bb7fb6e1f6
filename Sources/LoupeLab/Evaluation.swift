import LoupeCore
import LoupeData
import LoupeNN

/// Evaluating a model on a dataset outside a run.
public enum Evaluation {
    /// Top-1 accuracy of `model` (evaluation mode) over every example of `dataset`.
    public static func accuracy(_ model: Sequential, on dataset: Dataset, batchSize: Int = 250) throws -> Double {
        model.eval()
        defer { model.train() }
        var correct = 0
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let (images, labels) = dataset.batch(indices: Array(start..<min(dataset.count, start + batchSize)))
            let predictions = TrialRunner.predictions(try model(images))
            correct += zip(predictions, labels).filter { $0 == Int($1) }.count
        }
        return Double(correct) / Double(max(dataset.count, 1))
    }
}
