import Foundation
import LoupeCore

/// Saving and restoring models and training state in safetensors files.
///
/// - Weights: one file, tensors named as the parameters (`conv1.weight` HWIO, `fc1.weight`
///   [in, out], `*.bias`).
/// - A training checkpoint: a folder holding `weights.safetensors` and `state.safetensors` (the
///   optimizer's slots `<parameter>.<slot>`, with metadata: optimizer name and step, every
///   generator's state — dropout layers' as `rng.layer.<name>`, the caller's as `rng.<key>` — and
///   the caller's own metadata). The folder is written under a temporary name and renamed into
///   place, so a crash leaves either the old checkpoint or the new one, never half of one (the old
///   one as `.<name>.old` when the crash falls between the two renames: resuming looks there too).
///
/// Restoring validates everything (names, shapes, dtypes, offsets, optimizer name) before it
/// changes anything, so a bad file leaves the model and optimizer as they were.
public enum Checkpoint {
    public static let weightsFile = "weights.safetensors"
    public static let stateFile = "state.safetensors"


    public static func saveWeights(of model: any Layer, to url: URL, metadata: [String: String] = [:]) throws {
        try Safetensors.write(model.namedParameters().map { ($0.name, $0.parameter.value) }, metadata: metadata, to: url)
    }

    /// Loads weights into `model`; every parameter must be in the file with its shape, and the
    /// file must hold nothing else.
    @discardableResult
    public static func loadWeights(into model: any Layer, from url: URL) throws -> [String: String] {
        let (tensors, metadata) = try Safetensors.read(url)
        let parameters = model.namedParameters()
        try validate(tensors, against: parameters, path: url.path)
        for p in parameters { p.parameter.value = tensors[p.name]! }
        return metadata
    }

    static func validate(_ tensors: [String: Tensor], against parameters: [NamedParameter], path: String) throws {
        let expected = Set(parameters.map(\.name))
        let missing = parameters.map(\.name).filter { tensors[$0] == nil }
        let unexpected = tensors.keys.filter { !expected.contains($0) }.sorted()
        guard missing.isEmpty && unexpected.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("not in the model: \(unexpected.joined(separator: ", "))") }
            throw LoupeError.file(path: path, message: "does not match the model: " + parts.joined(separator: "; "))
        }
        for p in parameters where tensors[p.name]!.shape != p.parameter.shape {
            throw LoupeError.file(path: path, message: "\(p.name) has shape \(tensors[p.name]!.shape) but the model's is \(p.parameter.shape)")
        }
    }


    /// Writes a training checkpoint folder at `directory` (replacing one that is there).
    public static func save(model: any Layer, optimizer: any Optimizer, generators: [String: RandomGenerator] = [:],
                            metadata: [String: String] = [:], to directory: URL) throws {
        let fm = FileManager.default
        let parent = directory.deletingLastPathComponent()
        let temporary = parent.appendingPathComponent(".\(directory.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        try? fm.removeItem(at: temporary)
        do {
            try fm.createDirectory(at: temporary, withIntermediateDirectories: true)
            var info = metadata
            info["optimizer"] = optimizer.name
            info["optimizer.step"] = String(optimizer.state.step)
            for (name, layer) in model.namedSublayers() {
                if let random = layer as? any RandomLayer { info["rng.layer.\(name)"] = encode(random.generator) }
            }
            for (key, generator) in generators { info["rng.\(key)"] = encode(generator) }
            try saveWeights(of: model, to: temporary.appendingPathComponent(weightsFile))
            try Safetensors.write(optimizer.state.namedTensors, metadata: info, to: temporary.appendingPathComponent(stateFile))
            // Swap in: move any old folder aside, rename the new one, then delete the old.
            let old = parent.appendingPathComponent(".\(directory.lastPathComponent).old")
            try? fm.removeItem(at: old)
            if fm.fileExists(atPath: directory.path) { try fm.moveItem(at: directory, to: old) }
            try fm.moveItem(at: temporary, to: directory)
            try? fm.removeItem(at: old)
        } catch let error as LoupeError {
            try? fm.removeItem(at: temporary)
            throw error
        } catch {
            try? fm.removeItem(at: temporary)
            throw LoupeError.file(path: directory.path, message: "checkpoint cannot be written (\(error.localizedDescription))")
        }
    }

    /// Restores model weights, optimizer state and dropout generators from a checkpoint folder, and
    /// returns the caller's generators (by key) and metadata.
    @discardableResult
    public static func restore(model: any Layer, optimizer: any Optimizer, from directory: URL) throws
        -> (generators: [String: RandomGenerator], metadata: [String: String]) {
        let weightsURL = directory.appendingPathComponent(weightsFile), stateURL = directory.appendingPathComponent(stateFile)
        let (weights, _) = try Safetensors.read(weightsURL)
        let (slots, metadata) = try Safetensors.read(stateURL)
        let parameters = model.namedParameters()
        try validate(weights, against: parameters, path: weightsURL.path)
        guard metadata["optimizer"] == optimizer.name else {
            throw LoupeError.file(path: stateURL.path, message: "holds \(metadata["optimizer"] ?? "no") optimizer state, not \(optimizer.name)")
        }
        guard let stepText = metadata["optimizer.step"], let step = Int(stepText), step >= 0 else {
            throw LoupeError.file(path: stateURL.path, message: "metadata optimizer.step is missing or not a count")
        }
        var layerGenerators: [(any RandomLayer, RandomGenerator)] = []
        for (name, layer) in model.namedSublayers() {
            guard let random = layer as? any RandomLayer else { continue }
            guard let text = metadata["rng.layer.\(name)"] else {
                throw LoupeError.file(path: stateURL.path, message: "no generator state for layer \(name)")
            }
            layerGenerators.append((random, try decode(text, key: "rng.layer.\(name)", path: stateURL.path)))
        }
        var generators: [String: RandomGenerator] = [:]
        for (key, text) in metadata where key.hasPrefix("rng.") && !key.hasPrefix("rng.layer.") {
            generators[String(key.dropFirst(4))] = try decode(text, key: key, path: stateURL.path)
        }
        try optimizer.validateState(slots, step: step, parameters: parameters, path: stateURL.path)
        // Everything is validated; only now change the model, optimizer and layers.
        for p in parameters { p.parameter.value = weights[p.name]! }
        try optimizer.loadState(slots, step: step, parameters: parameters)
        for (layer, generator) in layerGenerators { layer.generator = generator }
        let callerMetadata = metadata.filter { !$0.key.hasPrefix("rng.") && $0.key != "optimizer" && $0.key != "optimizer.step" }
        return (generators, callerMetadata)
    }

    static func encode(_ generator: RandomGenerator) -> String {
        generator.state.map(String.init).joined(separator: ",")
    }

    static func decode(_ text: String, key: String, path: String) throws -> RandomGenerator {
        let words = text.split(separator: ",").compactMap { UInt32($0) }
        do { return try RandomGenerator(state: words) } catch {
            throw LoupeError.file(path: path, message: "metadata \(key) is not a generator state")
        }
    }
}

extension Optimizer {
    /// Checks that `tensors` hold every slot of every parameter with the right shape.
    func validateState(_ tensors: [String: Tensor], step: Int, parameters: [NamedParameter], path: String) throws {
        guard step > 0 else { return }
        for p in parameters {
            for slot in slotNames {
                let key = "\(p.name).\(slot.name)"
                guard let t = tensors[key] else { throw LoupeError.file(path: path, message: "optimizer slot \(key) is missing") }
                guard t.shape == p.parameter.shape else {
                    throw LoupeError.file(path: path, message: "optimizer slot \(key) has shape \(t.shape), expected \(p.parameter.shape)")
                }
            }
        }
    }
}
