import Foundation
import LoupeCore
import LoupeData
import LoupeNN
import Testing

/// `$LOUPE_TEST_DATA/name` when that folder exists; otherwise prints why the test skips.
func testData(_ name: String) -> String? {
    guard let root = ProcessInfo.processInfo.environment["LOUPE_TEST_DATA"], !root.isEmpty else {
        print("skipped: LOUPE_TEST_DATA is not set (scripts/test sets it to ../shared/data)")
        return nil
    }
    let path = URL(fileURLWithPath: root).appendingPathComponent(name).path
    guard FileManager.default.fileExists(atPath: path) else {
        print("skipped: \(path) does not exist")
        return nil
    }
    return path
}

/// Accuracy of `model` (evaluation mode) over a whole dataset, in batches.
func testAccuracy(_ model: Sequential, _ dataset: Dataset, batchSize: Int = 250) throws -> Float {
    model.eval()
    defer { model.train() }
    var correct = 0
    for start in stride(from: 0, to: dataset.count, by: batchSize) {
        let (images, labels) = dataset.batch(indices: Array(start..<min(dataset.count, start + batchSize)))
        let logits = try model(images).scalars
        let classes = logits.count / labels.count
        for (row, label) in labels.enumerated() {
            let scores = logits[(row * classes)..<((row + 1) * classes)]
            if scores.firstIndex(of: scores.max()!)! - row * classes == Int(label) { correct += 1 }
        }
    }
    return Float(correct) / Float(dataset.count)
}

@Suite struct LeNetTrainingTests {
    /// EXPERIMENTS.md part 1: 300 steps, batch 50 drawn with replacement, Adam 1e-3 (TF1 rule);
    /// the reference reached 0.384 test accuracy; single runs are noisy, so the bar is 0.33.
    @Test func lenetLearnsGrayscaleCIFAR10() throws {
        guard let root = testData("cifar10-gray28") else { return }
        let train = try Dataset.imageFolder(root: root, split: .train)
        let test = try Dataset.imageFolder(root: root, split: .test)
        #expect(train.count == 10_000 && test.count == 1_000)
        let seed: UInt64 = 0
        let model = try lenet(seed: seed)
        let parameters = model.namedParameters()
        let optimizer = Adam(learningRate: 1e-3)
        let batcher = try Batcher(dataset: train, batchSize: 50, mode: .withReplacement,
                              generator: RandomStreams(seed: seed).sampling)
        var losses: [Float] = []
        for step in 0..<300 {
            let batch = batcher.next()
            let (loss, grads) = try valueAndGradient(of: model, parameters: parameters) { m in
                try softmaxCrossEntropy(logits: m(batch.images), labels: batch.labels)
            }
            try optimizer.update(parameters, along: grads)
            losses.append(loss.scalar)
            if step % 50 == 0 { print("step \(step), loss \(loss.scalar)") }
        }
        let accuracy = try testAccuracy(model, test)
        print("LeNet, 300 steps, Adam 1e-3: test accuracy \(accuracy)")
        #expect(losses.allSatisfy { $0.isFinite })
        let late: Float = losses.suffix(50).reduce(0, +) / 50
        let early: Float = losses.prefix(10).reduce(0, +) / 10
        #expect(late < early)
        #expect(accuracy >= 0.33)
    }
}
