import Foundation
import LoupeCore
import Testing

@Suite struct LossAndDropoutTests {
    let logits = random([4, 5], seed: 200, scale: 2)

    @Test func softmaxAndLogSoftmaxGradients() throws {
        try checkGradients([logits]) { p in try softmax(p[0]) }
        try checkGradients([logits]) { p in try logSoftmax(p[0]) }
        let rowSums = try sum(softmax(logits), axis: 1).scalars
        expectClose(rowSums, [1, 1, 1, 1], absoluteTolerance: 1e-6)
    }

    @Test func crossEntropyValueAndGradient() throws {
        let labels: [Int32] = [0, 3, 4, 1]
        try checkGradients([logits]) { p in try softmaxCrossEntropy(logits: p[0], labels: labels) }
        // Reference: mean of log Σ exp − logit[label], in Double.
        let x = logits.scalars
        var expected = 0.0
        for r in 0..<4 {
            let row = (0..<5).map { Double(x[r * 5 + $0]) }
            expected += Foundation.log(row.map { Foundation.exp($0) }.reduce(0, +)) - row[Int(labels[r])]
        }
        let loss = try softmaxCrossEntropy(logits: logits, labels: labels).scalar
        #expect(abs(Double(loss) - expected / 4) < 1e-5)
    }

    @Test func crossEntropyIsStableForLargeLogits() throws {
        let huge = try Tensor(shape: [2, 3], scalars: [1000, 0, -1000, 5000, 5001, 4999])
        let (loss, gradients) = try valueAndGradient(at: [huge]) { p in try softmaxCrossEntropy(logits: p[0], labels: [0, 1]) }
        #expect(loss.scalar.isFinite)
        // Row 0 costs 0; row 1 costs logsumexp(5000, 5001, 4999) − 5001 = log(1 + e⁻¹ + e⁻²).
        let row2 = Foundation.log(1 + Foundation.exp(-1.0) + Foundation.exp(-2.0))
        #expect(abs(Double(loss.scalar) - row2 / 2) < 1e-5)
        #expect(gradients[0].scalars.allSatisfy { $0.isFinite })
        #expect(try softmax(huge).scalars.allSatisfy { $0.isFinite })
    }

    @Test func crossEntropyRejectsBadLabels() {
        #expect(throws: LoupeError.self) { try softmaxCrossEntropy(logits: logits, labels: [0, 1, 2]) }
        #expect(throws: LoupeError.self) { try softmaxCrossEntropy(logits: logits, labels: [0, 1, 5, 2] as [Int32]) }
    }

    @Test func dropoutIsSeededScaledAndDifferentiable() throws {
        let x = random([8, 16], seed: 210, gap: 0.1)
        var g1 = RandomGenerator(seed: 7, stream: 2), g2 = RandomGenerator(seed: 7, stream: 2)
        let y1 = try dropout(x, keepProbability: 0.5, generator: &g1)
        let y2 = try dropout(x, keepProbability: 0.5, generator: &g2)
        #expect(y1 == y2)
        let kept = zip(x.scalars, y1.scalars).filter { $0.1 != 0 }
        #expect(kept.allSatisfy { $0.1 == $0.0 * 2 })
        #expect(kept.count > 40 && kept.count < 88)
        try checkGradients([x]) { p in
            var g = RandomGenerator(seed: 7, stream: 2)
            return try dropout(p[0], keepProbability: 0.6, generator: &g)
        }
        var g = RandomGenerator(seed: 1)
        #expect(try dropout(x, keepProbability: 1, generator: &g) == x)
        #expect(throws: LoupeError.self) { try dropout(x, keepProbability: 0, generator: &g) }
    }
}
