import Foundation
import LoupeCore
import LoupeLab
import LoupeNN
import Testing

private func model(_ layers: String, seed: UInt64 = 0) throws -> Sequential {
    let text = """
    data: {dataset: cifar10-gray28}
    model:
      layers:
    \(layers)
    optimizer: {name: sgd, lr: 0.1}
    """
    let trial = try Experiment.parse(text: text, path: "exp.yaml").trials[0]
    return try trial.config.model.make(sampleShape: [28, 28, 1], classes: 10, streams: RandomStreams(seed: seed))
}

private func weights(_ model: Sequential) -> [String: Tensor] {
    Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.parameter.value) })
}

@Suite struct ModelFactoryTests {
    /// Each layer draws its weights from its own named stream, so adding a layer leaves every
    /// other layer's initial weights as they were (with one shared generator, every layer after
    /// the new one would shift).
    @Test func addingALayerLeavesTheOtherLayersInitialWeightsUnchanged() throws {
        let before = try model("""
            - {type: conv2d, name: conv1, filters: 8, kernel: 3, activation: relu}
            - {type: maxpool, size: 2}
            - {type: dense, name: fc1, units: 32, activation: relu}
            - {type: dense, name: fc2, units: 10}
        """)
        let after = try model("""
            - {type: conv2d, name: conv0, filters: 1, kernel: 3}
            - {type: conv2d, name: conv1, filters: 8, kernel: 3, activation: relu}
            - {type: maxpool, size: 2}
            - {type: dense, name: fc1, units: 32, activation: relu}
            - {type: dropout, name: drop, keep_probability: 0.5}
            - {type: dense, name: extra, units: 32, activation: tanh}
            - {type: dense, name: fc2, units: 10}
        """)
        let a = weights(before), b = weights(after)
        for name in ["conv1.weight", "conv1.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"] {
            #expect(a[name] != nil && a[name] == b[name], "\(name) changed when layers were added")
        }
        #expect(b["extra.weight"] != nil)
        // The dropout layer draws from its own stream, named after it.
        let dropout = try #require(after.layers.first { $0.name == "drop" }?.layer as? Dropout)
        #expect(dropout.generator == RandomStreams(seed: 0).dropout(of: "drop"))
        // Another seed, other weights.
        #expect(weights(try model("""
            - {type: dense, name: fc2, units: 10}
        """, seed: 1))["fc2.weight"] != weights(try model("""
            - {type: dense, name: fc2, units: 10}
        """, seed: 0))["fc2.weight"])
    }

    @Test func aModelThatDoesNotFitTheDataIsRefusedNamingTheLayer() throws {
        let text = """
        data: {dataset: cifar10-gray28}
        model: {builder: lenet}
        optimizer: {name: sgd, lr: 0.1}
        """
        let config = try Experiment.parse(text: text, path: "exp.yaml").trials[0].config.model
        #expect(try config.make(sampleShape: [32, 32, 3], classes: 10, streams: RandomStreams(seed: 0)).parameters.count == 8)
        do {
            _ = try config.make(sampleShape: [28, 28], classes: 10, streams: RandomStreams(seed: 0))
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("[28, 28]"), "\(error)")
        }
    }
}
