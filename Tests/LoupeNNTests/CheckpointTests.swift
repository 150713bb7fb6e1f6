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
        ("dropout", Dropout(keepProbability: 0.7, generator: RandomStreams(seed: seed).dropout(of: "dropout"))),
        ("fc2", Dense(inputSize: 16, outputSize: 3, generator: &g)),
    ])
}

@Suite struct CheckpointTests {
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
        // Shapes whose product overflows (or is merely far beyond the file) are refused, not trapped on.
        for shape in ["[4294967296,4294967296]", "[2147483648,2147483648,4]", "[4611686018427387904]", "[1000000,1000000]"] {
            #expect(error(file(#"{"w":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,8]}}"#, dataBytes: 8)).contains("larger than the file"), "\(shape)")
        }
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
        // A training checkpoint restored into the wrong optimizer: TrialStateTests.
    }
}
