import Foundation
import LoupeCore
import LoupeData
import LoupeNN

/// `loupe eval`: a model's loss, accuracy, per-class accuracy and confusion matrix over a whole
/// dataset, with the class names.
public struct EvaluationReport: Codable, Sendable {
    public struct ClassResult: Codable, Sendable {
        public var name: String
        public var images: Int
        /// Share of this class's images predicted as it; nil when the data has none of it.
        public var accuracy: Double?
    }

    public var images: Int
    public var accuracy: Double
    /// Mean softmax cross-entropy (natural log) over the images, summed in Double.
    public var loss: Double
    public var classes: [ClassResult]
    /// Rows the true class, columns the prediction, in `classes` order.
    public var confusion: [[Int]]

    /// Evaluates `model` (evaluation mode) over every image of `dataset`.
    public init(_ model: any Model, on dataset: Dataset) throws {
        model.eval()
        defer { model.train() }
        let count = dataset.classCount
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: count), count: count)
        var lossSum = 0.0, correct = 0
        for start in stride(from: 0, to: dataset.count, by: 250) {
            let (images, labels) = dataset.batch(indices: Array(start..<min(dataset.count, start + 250)))
            let (logits, _) = try model.forward(images, capturing: [])
            guard logits.rank == 2, logits.shape[1] == count else {
                throw LoupeError.shapeMismatch(op: "eval", message: "the model gives \(logits.shape) values per batch, but the data has \(count) classes")
            }
            let predictions = Evaluation.predictions(logits)
            logits.withUnsafeBufferPointer { values in
                for (row, label) in labels.enumerated() {
                    // log-softmax at the label, shifted by the row's largest logit.
                    let offset = row * count
                    var largest = -Double.infinity
                    for j in 0..<count { largest = max(largest, Double(values[offset + j])) }
                    var sum = 0.0
                    for j in 0..<count { sum += Foundation.exp(Double(values[offset + j]) - largest) }
                    lossSum += largest + Foundation.log(sum) - Double(values[offset + Int(label)])
                }
            }
            for (prediction, label) in zip(predictions, labels) {
                matrix[Int(label)][prediction] += 1
                if prediction == Int(label) { correct += 1 }
            }
        }
        images = dataset.count
        accuracy = Double(correct) / Double(max(1, dataset.count))
        loss = lossSum / Double(max(1, dataset.count))
        confusion = matrix
        classes = dataset.classNames.indices.map { index in
            let total = matrix[index].reduce(0, +)
            return ClassResult(name: dataset.classNames[index], images: total,
                               accuracy: total == 0 ? nil : Double(matrix[index][index]) / Double(total))
        }
    }

    /// The report as text: the totals, each class's accuracy, and the confusion matrix with
    /// classes numbered and named.
    public var text: String {
        var lines = [String(format: "test accuracy %.4f, loss %.4f over %d images", accuracy, loss, images)]
        let nameWidth = min(24, classes.map(\.name.count).max() ?? 0)
        func name(_ text: String) -> String { String(text.prefix(nameWidth)).padding(toLength: nameWidth, withPad: " ", startingAt: 0) }
        lines.append("per class:")
        for (index, result) in classes.enumerated() {
            let accuracy = result.accuracy.map { String(format: "%.3f", $0) } ?? "—"
            lines.append("  \(String(index).leftPadded(2)) \(name(result.name))  \(accuracy)  (\(result.images) images)")
        }
        let cellWidth = max(3, String(confusion.joined().max() ?? 0).count, String(classes.count - 1).count)
        lines.append("confusion (rows: true class, columns: predicted class, by number):")
        lines.append("     " + String(repeating: " ", count: nameWidth) + classes.indices.map { " " + String($0).leftPadded(cellWidth) }.joined())
        for (index, row) in confusion.enumerated() {
            lines.append("  \(String(index).leftPadded(2)) \(name(classes[index].name))" + row.map { " " + String($0).leftPadded(cellWidth) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
