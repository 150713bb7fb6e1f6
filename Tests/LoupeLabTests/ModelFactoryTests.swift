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

@Suite struct RecurrentModelConfigTests {
    static let presets = """
    data: {dataset: mnist-png28, sequence: rows}
    models:
      cnn: {builder: lenet}
      lstm:
        layers:
          - {type: lstm, units: 16}
          - {type: dense, units: 10, weight_init: {name: normal, std: 1.0}}
      gru:
        layers:
          - {type: gru, units: 8, variant: pytorch, return_sequences: true}
          - {type: gru, units: 8}
          - {type: dense, units: 10}
    model: lstm
    optimizer: {name: adam, lr: 0.001}
    sweep:
      model: [lstm, gru, cnn]
    """

    @Test func presetsAreASweepAxis() throws {
        let experiment = try Experiment.parse(text: Self.presets, path: "exp.yaml")
        #expect(experiment.trials.map { $0.settingsDictionary["model"] } == ["lstm", "gru", "cnn"])
        #expect(experiment.trials[0].id.hasPrefix("lstm-"))
        #expect(experiment.trials[0].config.data.sequence == .rows)
        let streams = RandomStreams(seed: 0)
        let lstm = try experiment.trials[0].config.model.make(sampleShape: [28, 28], classes: 10, streams: streams)
        #expect(lstm.parameters.map(\.name) == ["lstm1.kernel", "lstm1.recurrentKernel", "lstm1.bias", "dense1.weight", "dense1.bias"])
        #expect(lstm.parameters[0].parameter.shape == [28, 64])
        // Stacked GRUs: the first returns its sequence; images are read as rows when no
        // data.sequence is set.
        let gru = try experiment.trials[1].config.model.make(sampleShape: [28, 28, 1], classes: 10, streams: streams)
        #expect(try gru.outputShape(forSample: [28, 28, 1]) == [10])
        #expect(gru.parameters.map(\.name).contains("gru1.recurrentBias"))
        // The CNN needs images, and says so for sequences.
        #expect(throws: LoupeError.self) {
            try experiment.trials[2].config.model.make(sampleShape: [28, 28], classes: 10, streams: streams)
        }
    }

    @Test func unknownPresetsAndMisplacedKeysAreErrors() throws {
        func error(_ text: String) -> String {
            do { _ = try Experiment.parse(text: text, path: "exp.yaml"); return "" } catch { return "\(error)" }
        }
        #expect(error(Self.presets.replacingOccurrences(of: "model: [lstm, gru, cnn]", with: "model: [lstn]"))
            .contains("did you mean 'lstm'"))
        #expect(error("""
            data: {dataset: mnist-png28}
            model: lstm
            optimizer: {name: adam, lr: 0.001}
            """).contains("no models: section"))
        #expect(error("""
            data: {dataset: mnist-png28}
            model: {layers: [{type: dense, units: 10, variant: pytorch}]}
            optimizer: {name: adam, lr: 0.001}
            """).contains("applies to rnn, lstm and gru layers only"))
        #expect(error("""
            data: {dataset: mnist-png28}
            model: {layers: [{type: lstm}]}
            optimizer: {name: adam, lr: 0.001}
            """).contains("units"))
        #expect(error("""
            data: {dataset: mnist-png28, sequence: columns}
            model: {builder: lenet}
            optimizer: {name: adam, lr: 0.001}
            """).contains("data.sequence"))
    }

    @Test func theRepositorysRecurrentExperimentsLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../experiments")
        let part3 = try Experiment.load(path: root.appendingPathComponent("rnn-mnist.yaml").path)
        #expect(part3.trials.count == 21)
        #expect(part3.trials.allSatisfy { $0.config.train.steps * $0.config.train.batchSize >= 50_000 })
        let part4 = try Experiment.load(path: root.appendingPathComponent("cnn-vs-rnn.yaml").path)
        #expect(part4.trials.count == 36)
        // Ids name a swept model or data set by its value alone.
        #expect(part4.trials[0].id.hasPrefix("mnist-png28-cnn-seed0-"))
        for trial in part4.trials.prefix(4) {
            let model = try trial.config.model.make(sampleShape: [28, 28, 1], classes: 10, streams: RandomStreams(seed: 0))
            #expect(try model.outputShape(forSample: [28, 28, 1]) == [10])
        }
    }
}
