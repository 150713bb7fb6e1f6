import Foundation
import LoupeCore
import LoupeNN
import Testing

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A small CNN with dropout: conv, pool, dense, dropout, dense.
private func smallModel(seed: UInt64) throws -> Sequential {
    var g = RandomGenerator(seed: seed)
    return try Sequential([
        ("conv1", Conv2D(filterShape: (3, 3, 1, 4), weightInitializer: .truncatedNormal(standardDeviation: 0.3), generator: &g)),
        ("relu1", ReLU()),
        ("pool1", MaxPool2D()),
        ("flatten", Flatten()),
        ("fc1", Dense(inputSize: 4 * 4 * 4, outputSize: 16, generator: &g)),
        ("relu2", ReLU()),
        ("dropout", Dropout(keepProbability: 0.7, generator: RandomGenerator(seed: seed, stream: RandomStream.dropout))),
        ("fc2", Dense(inputSize: 16, outputSize: 3, generator: &g)),
    ])
}

/// Trains `steps` steps on batches drawn from `sampler` (random images, labels from the pixels).
private func train(_ model: Sequential, _ optimizer: any Optimizer, _ sampler: inout RandomGenerator, steps: Int) throws {
    let parameters = model.namedParameters()
    for _ in 0..<steps {
        let images = Tensor.randomUniform([6, 8, 8, 1], generator: &sampler)
        let labels = (0..<6).map { _ in Int32(sampler.nextInt(below: 3)) }
        let (_, grads) = try valueAndGradient(of: model, parameters: parameters) { m in
            try softmaxCrossEntropy(logits: m(images), labels: labels)
        }
        try optimizer.update(parameters, along: grads)
    }
}

@Suite struct CheckpointTests {
    @Test(arguments: ["adam", "rmsprop", "momentum", "adagrad"])
    func resumedTrainingIsBitIdentical(_ rule: String) throws {
        func optimizer() -> any Optimizer {
            switch rule {
            case "adam": return Adam(learningRate: 1e-2)
            case "rmsprop": return RMSProp(learningRate: 1e-3, momentum: 0.5, centered: true)
            case "momentum": return Momentum(learningRate: 1e-2, momentum: 0.5)
            default: return Adagrad(learningRate: 1e-2)
            }
        }
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Uninterrupted: 8 steps.
        let straight = try smallModel(seed: 4)
        var straightSampler = RandomGenerator(seed: 4, stream: RandomStream.sampling)
        try train(straight, optimizer(), &straightSampler, steps: 8)
        // Interrupted: 5 steps, checkpoint, a fresh process's objects, restore, 3 more.
        let first = try smallModel(seed: 4), firstOptimizer = optimizer()
        var sampler = RandomGenerator(seed: 4, stream: RandomStream.sampling)
        try train(first, firstOptimizer, &sampler, steps: 5)
        let checkpoint = folder.appendingPathComponent("checkpoint")
        try Checkpoint.save(model: first, optimizer: firstOptimizer, generators: ["sampling": sampler],
                            metadata: ["step": "5"], to: checkpoint)
        let resumed = try smallModel(seed: 99), resumedOptimizer = optimizer()
        let (generators, metadata) = try Checkpoint.restore(model: resumed, optimizer: resumedOptimizer, from: checkpoint)
        #expect(metadata["step"] == "5")
        var resumedSampler = try #require(generators["sampling"])
        try train(resumed, resumedOptimizer, &resumedSampler, steps: 3)
        for (a, b) in zip(straight.namedParameters(), resumed.namedParameters()) {
            #expect(a.parameter.value == b.parameter.value, "\(a.name) differs after resuming")
        }
    }

    @Test func weightsRoundTripWithConventionalNamesAndLayout() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try lenet(seed: 3), url = folder.appendingPathComponent("w.safetensors")
        try Checkpoint.saveWeights(of: model, to: url, metadata: ["model": "lenet"])
        let (tensors, metadata) = try Safetensors.read(url)
        #expect(metadata == ["model": "lenet"])
        #expect(tensors["conv1.weight"]?.shape == [5, 5, 1, 32] && tensors["fc1.weight"]?.shape == [3136, 1024])
        let copy = try lenet(seed: 4)
        try Checkpoint.loadWeights(into: copy, from: url)
        for (a, b) in zip(model.namedParameters(), copy.namedParameters()) { #expect(a.parameter.value == b.parameter.value) }
    }

    @Test func headerLayoutFollowsTheFormat() throws {
        let data = try Safetensors.encode([("b", Tensor([1, 2])), ("a", Tensor([-0.5]))])
        let n = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: [String: Any]]
        #expect(header["a"]?["dtype"] as? String == "F32")
        #expect(header["a"]?["data_offsets"] as? [Int] == [0, 4] && header["b"]?["data_offsets"] as? [Int] == [4, 12])
        #expect(data.count == 8 + n + 12)
        // −0.5 as little-endian IEEE-754: 00 00 00 BF.
        #expect(Array(data[(8 + n)..<(8 + n + 4)]) == [0x00, 0x00, 0x00, 0xBF])
    }

    /// A file with header `json` and `dataBytes` zero bytes of data.
    private func file(_ json: String, dataBytes: Int) -> Data {
        var data = Data()
        var length = UInt64(json.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(Data(json.utf8))
        data.append(Data(count: dataBytes))
        return data
    }

    private func error(_ data: Data) -> String {
        do {
            _ = try Safetensors.decode(data, path: "bad.safetensors")
            return "no error"
        } catch { return "\(error)" }
    }

    @Test func brokenFilesAreRejectedWithTheirFault() throws {
        let good = try Safetensors.encode([("w", Tensor([1, 2, 3]))])
        #expect(error(good.prefix(5)).contains("truncated"))
        #expect(error(good.prefix(good.count - 2)).contains("outside"))
        #expect(error(file("not json", dataBytes: 0)).contains("JSON"))
        #expect(error(file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 4)).contains("outside"))
        #expect(error(file(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8)).contains("needs 12 bytes"))
        #expect(error(file(#"{"w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 8)).contains("unknown dtype"))
        #expect(error(file(#"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, dataBytes: 4)).contains("not supported"))
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataBytes: 8)).contains("overlaps"))
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataBytes: 8)).contains("hole"))
        var huge = good
        huge.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
        #expect(error(huge).contains("header length"))
        #expect(error(good).contains("no error"))
    }

    @Test func wrongShapesAndNamesLeaveTheModelUntouched() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try smallModel(seed: 1)
        let before = model.namedParameters().map { $0.parameter.value }
        let wrongShape = folder.appendingPathComponent("shape.safetensors")
        var tensors = model.namedParameters().map { ($0.name, $0.parameter.value) }
        tensors[0].1 = Tensor.zeros([3, 3, 1, 5])
        try Safetensors.write(tensors, to: wrongShape)
        #expect(throws: LoupeError.self) { try Checkpoint.loadWeights(into: model, from: wrongShape) }
        do { try Checkpoint.loadWeights(into: model, from: wrongShape) } catch {
            #expect("\(error)".contains("conv1.weight") && "\(error)".contains("[3, 3, 1, 5]"), "\(error)")
        }
        let missing = folder.appendingPathComponent("missing.safetensors")
        try Safetensors.write(Array(tensors.dropFirst()), to: missing)
        do { try Checkpoint.loadWeights(into: model, from: missing) } catch {
            #expect("\(error)".contains("missing conv1.weight"), "\(error)")
        }
        #expect(model.namedParameters().map { $0.parameter.value } == before)
        // A training checkpoint restored into the wrong optimizer is refused before anything changes.
        let checkpoint = folder.appendingPathComponent("ckpt")
        try Checkpoint.save(model: model, optimizer: Adam(), to: checkpoint)
        #expect(throws: LoupeError.self) { try Checkpoint.restore(model: model, optimizer: SGD(learningRate: 1), from: checkpoint) }
    }

    @Test func checkpointReplacesAtomically() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try smallModel(seed: 2), optimizer = Adam()
        let checkpoint = folder.appendingPathComponent("ckpt")
        try Checkpoint.save(model: model, optimizer: optimizer, metadata: ["step": "1"], to: checkpoint)
        try Checkpoint.save(model: model, optimizer: optimizer, metadata: ["step": "2"], to: checkpoint)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(leftovers == ["ckpt"])
        #expect(try Checkpoint.restore(model: model, optimizer: optimizer, from: checkpoint).metadata["step"] == "2")
    }
}
