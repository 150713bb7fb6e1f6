import Foundation
import LoupeCore
import LoupeData
import LoupeLab
import LoupeNN
import Testing

/// A model whose loss is finite but whose gradient is not: loss = 100 · mean(log(x · p)) with
/// p = 2e-38 (a normal float, so log(p) ≈ −87 is finite) and x = 1, so ∂loss/∂p = 100 / p = 5e39,
/// beyond Float's largest value 3.4e38: +∞.
private final class TinyLogModel: Model {
    let p = Parameter(Tensor([2e-38]))
    private(set) lazy var parameters = namedParameters()
    var probePoints: [String] { [] }
    func callAsFunction(_ input: Tensor) throws -> Tensor { try forward(input, capturing: []).output }
    func forward(_ input: Tensor, capturing: Set<String>) throws -> (output: Tensor, captured: [String: Tensor]) {
        (try input * p.value, [:])
    }
    func loss(logits: Tensor, labels: [Int32]) throws -> Tensor { mean(log(logits)) * 100 }
    func probePoint(named name: String) throws -> String { throw LoupeError.config(key: "probes", message: "none") }
}

@Suite struct TrainingStepTests {
    @Test func aNonFiniteGradientStopsTheStepBeforeTheUpdate() throws {
        let model = TinyLogModel()
        let data = try syntheticDataset(seed: 3)
        let state = TrialState(model: model, optimizer: Adam(learningRate: 0.1),
                               batcher: try Batcher(dataset: data, batchSize: 2, mode: .withReplacement, generator: RandomStreams(seed: 0).sampling))
        let outcome = try state.trainStep(images: Tensor.ones([2, 1]), labels: [0, 0], learningRate: 0.1)
        guard case let .nonFinite(tensor, loss) = outcome else {
            Issue.record("expected a non-finite gradient, got \(outcome)")
            return
        }
        #expect(tensor == "gradient of p")
        #expect(loss.isFinite && loss < -8000)
        #expect(model.p.value.scalars == [2e-38], "the update must not have happened")
        #expect(state.optimizer.state.step == 0)
    }

    @Test func aNonFiniteLossIsNamed() throws {
        let model = TinyLogModel()
        model.p.value = Tensor([0])
        let state = TrialState(model: model, optimizer: SGD(learningRate: 0.1),
                               batcher: try Batcher(dataset: syntheticDataset(seed: 3), batchSize: 2, mode: .withReplacement,
                                                    generator: RandomStreams(seed: 0).sampling))
        #expect(try state.trainStep(images: Tensor.ones([2, 1]), labels: [0, 0], learningRate: 0.1) == .nonFinite(tensor: "loss", loss: -.infinity))
    }

    @Test func finiteChecksAgreeWithTheReference() {
        for count in [0, 1, 15, 16, 17, 300_000] {
            var values = Tensor(repeating: 1.5, shape: [count])
            #expect(values.isFinite, "\(count) finite values")
            for bad in [Float.nan, .infinity, -.infinity] where count > 0 {
                for position in Set([0, count / 2, count - 1]) {
                    values = Tensor(repeating: 1.5, shape: [count])
                    values.withUnsafeMutableBufferPointer { $0[position] = bad }
                    #expect(!values.isFinite, "\(bad) at \(position) of \(count)")
                }
            }
        }
        #expect(Tensor([Float.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]).isFinite)
    }
}
