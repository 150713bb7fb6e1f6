import Foundation
import LoupeCore
import LoupeData
import LoupeLab
import LoupeNN
import Testing

/// A small CNN with dropout (conv, pool, dense, dropout, dense), its numbers from `streams`.
func smallModel(_ streams: RandomStreams) throws -> Sequential {
    var conv1 = streams.initialization(of: "conv1"), fc1 = streams.initialization(of: "fc1"), fc2 = streams.initialization(of: "fc2")
    return try Sequential([
        ("conv1", Conv2D(filterShape: (3, 3, 1, 4), weightInitializer: .truncatedNormal(standardDeviation: 0.3), generator: &conv1)),
        ("relu1", ReLU()),
        ("pool1", MaxPool2D()),
        ("flatten", Flatten()),
        ("fc1", Dense(inputSize: 4 * 4 * 4, outputSize: 16, generator: &fc1)),
        ("relu2", ReLU()),
        ("dropout", Dropout(keepProbability: 0.7, generator: streams.dropout(of: "dropout"))),
        ("fc2", Dense(inputSize: 16, outputSize: 3, generator: &fc2)),
    ])
}

/// 40 random 8x8 gray images in 3 classes (the label follows the mean brightness).
func syntheticDataset(seed: UInt64) throws -> Dataset {
    var g = RandomGenerator(seed: seed, stream: 7)
    let bytes = (0..<(40 * 64)).map { _ in UInt8(g.nextInt(below: 256)) }
    let labels = (0..<40).map { i -> Int32 in
        let total: Int = bytes[(i * 64)..<(i * 64 + 64)].reduce(0) { $0 + Int($1) }
        return Int32(total * 3 / (64 * 256))
    }
    return try syntheticDataset(bytes: bytes, labels: labels)
}

private func optimizer(_ rule: String) -> any Optimizer {
    switch rule {
    case "adam": return Adam(learningRate: 1e-2)
    case "rmsprop": return RMSProp(learningRate: 1e-3, momentum: 0.5, centered: true)
    case "momentum": return Momentum(learningRate: 1e-2, momentum: 0.5)
    default: return Adagrad(learningRate: 1e-2)
    }
}

/// A fresh trial state: model from `modelSeed`, batches of 6 drawn from the sampling stream of `seed`.
private func makeState(_ rule: String, seed: UInt64 = 4, modelSeed: UInt64? = nil, sampling: SamplingMode = .withReplacement) throws -> TrialState {
    let streams = RandomStreams(seed: seed)
    let batcher = try Batcher(dataset: syntheticDataset(seed: 1), batchSize: 6, mode: sampling, generator: streams.sampling)
    return TrialState(model: try smallModel(RandomStreams(seed: modelSeed ?? seed)), optimizer: optimizer(rule), batcher: batcher)
}

private func train(_ state: TrialState, steps: Int) throws {
    for _ in 0..<steps {
        let batch = state.batcher.next()
        let outcome = try state.trainStep(images: batch.images, labels: batch.labels, learningRate: state.optimizer.learningRate)
        guard case .updated = outcome else { Issue.record("step \(state.step): \(outcome)"); return }
        state.step += 1
        state.seconds += 0.25
    }
}

private func parameters(_ state: TrialState) -> [Tensor] { state.model.parameters.map { $0.parameter.value } }

@Suite struct TrialStateTests {
    @Test(arguments: [("adam", SamplingMode.withReplacement), ("rmsprop", .epochs(dropRemainder: false)),
                      ("momentum", .withReplacement), ("adagrad", .epochs(dropRemainder: true))])
    func resumedTrainingIsBitIdentical(_ rule: String, _ sampling: SamplingMode) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Uninterrupted: 9 steps (an epoch of 40 examples in batches of 6 ends after 6 or 7).
        let straight = try makeState(rule, sampling: sampling)
        try train(straight, steps: 9)
        // Interrupted: 5 steps, checkpoint, a fresh process's objects (other weights), restore, 4 more.
        let first = try makeState(rule, sampling: sampling)
        try train(first, steps: 5)
        let checkpoint = folder.appendingPathComponent("checkpoint.safetensors")
        try first.write(to: checkpoint)
        let resumed = try makeState(rule, modelSeed: 99, sampling: sampling)
        try resumed.restore(from: checkpoint)
        #expect(resumed.step == 5 && resumed.seconds == 1.25)
        try train(resumed, steps: 4)
        for (a, b) in zip(straight.model.parameters, resumed.model.parameters) {
            #expect(a.parameter.value == b.parameter.value, "\(a.name) differs after resuming")
        }
        #expect(straight.batcher.state == resumed.batcher.state)
    }

    @Test func saveRestoreSaveIsByteIdentical() throws {
        let state = try makeState("adam")
        try train(state, steps: 5)
        let bytes = try state.encoded()
        let fresh = try makeState("adam", modelSeed: 12)
        try fresh.restore(from: bytes, path: "checkpoint.safetensors")
        #expect(try fresh.encoded() == bytes)
        // A state that never stepped round-trips too (the optimizer has no slots yet).
        let new = try makeState("rmsprop"), other = try makeState("rmsprop", modelSeed: 3)
        try other.restore(from: try new.encoded(), path: "new.safetensors")
        #expect(try other.encoded() == (try new.encoded()))
    }

    @Test func aCheckpointOfAnotherOptimizerOrModelIsRefusedAndChangesNothing() throws {
        let adam = try makeState("adam")
        try train(adam, steps: 2)
        let bytes = try adam.encoded()
        let momentum = try makeState("momentum", modelSeed: 5)
        let before = try momentum.encoded()
        do {
            try momentum.restore(from: bytes, path: "adam.safetensors")
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("adam.safetensors") && "\(error)".contains("adam"), "\(error)")
        }
        #expect(try momentum.encoded() == before)
        // Another model: LeNet's parameters are not the small model's.
        let lenetState = TrialState(model: try lenet(seed: 0), optimizer: Adam(learningRate: 1e-2), batcher: adam.batcher)
        #expect(throws: LoupeError.self) { try lenetState.restore(from: bytes, path: "adam.safetensors") }
    }

    /// Truncations, bit flips and lying fields: each is a clean `LoupeError` naming the file, or a
    /// restore that succeeds (a flipped bit inside a weight); a failed one changes nothing.
    @Test func brokenCheckpointsFailCleanlyAndLeaveTheStateAsItWas() throws {
        let source = try makeState("adam")
        try train(source, steps: 3)
        let good = try source.encoded()
        let target = try makeState("adam", modelSeed: 8)
        let before = try target.encoded()
        var cases: [Data] = (0..<24).map { good.prefix(good.count * $0 / 24) }
        var g = RandomGenerator(seed: 2024)
        for _ in 0..<150 {
            var flipped = good
            let index = g.nextInt(below: 8 + 2000)  // the header, where a flip changes meaning
            flipped[index] ^= UInt8(1 << g.nextInt(below: 8))
            cases.append(flipped)
        }
        let text = String(decoding: good, as: UTF8.self)
        for (field, lie) in [("\"step\":\"3\"", "\"step\":\"-3\""), ("\"batcher.position\":\"0\"", "\"batcher.position\":\"99999\""),
                             ("\"optimizer.step\":\"3\"", "\"optimizer.step\":\"x\"")] where text.contains(field) {
            cases.append(Data(text.replacingOccurrences(of: field, with: lie).utf8))
        }
        var failures = 0
        for data in cases {
            do {
                try target.restore(from: data, path: "broken.safetensors")
                try target.restore(from: before, path: "before.safetensors")
            } catch let error as LoupeError {
                failures += 1
                #expect("\(error)".contains("broken.safetensors"), "\(error)")
                #expect(try target.encoded() == before, "a failed restore changed the state: \(error)")
            }
        }
        #expect(failures > cases.count / 2)
    }

    @Test func aCheckpointIsReplacedAtomically() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let state = try makeState("adam")
        let checkpoint = folder.appendingPathComponent("checkpoint.safetensors")
        try train(state, steps: 1)
        try state.write(to: checkpoint)
        try train(state, steps: 1)
        try state.write(to: checkpoint)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["checkpoint.safetensors"])
        let restored = try makeState("adam")
        try restored.restore(from: checkpoint)
        #expect(restored.step == 2)
    }
}
