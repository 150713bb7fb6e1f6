import Foundation
import LoupeCore
import LoupeData
import LoupeNN

/// Everything a trial needs to continue bit-identically: the model, the optimizer (slots and
/// step count), the batcher (its generator and position), every dropout layer's generator, the
/// steps done and the training seconds so far. The trial's streams are derived from its seed
/// (`RandomStreams`), so only where each generator has got to is state.
///
/// It saves to one checkpoint file, `checkpoint.safetensors`, written atomically (a temporary
/// file, then a rename), so a kill leaves the previous checkpoint or the new one:
///
/// - tensors `model/<parameter>` and `optimizer/<parameter>.<slot>`;
/// - metadata `format`, `step`, `seconds`, `optimizer`, `optimizer.step`, `rng.<layer>` for each
///   layer that draws random numbers, and `batcher.generator`, `batcher.produced`,
///   `batcher.epoch`, `batcher.position`. Generators are written as `RandomGenerator.stateText`.
///
/// Restoring validates the whole file against this state's model and optimizer before it
/// changes anything: a bad file leaves the state as it was and names itself in the error.
public final class TrialState {
    public let model: any Model
    public let optimizer: any Optimizer
    public private(set) var batcher: Batcher
    /// Steps done.
    public var step: Int
    /// Training wall-clock seconds, summed over the sessions that ran the trial.
    public var seconds: Double
    /// The last step's gradients when the trainer was asked to keep them (`TrainerHook.wantsGradients`);
    /// not part of the checkpoint.
    public internal(set) var lastGradients: Gradients?
    /// What early stopping and `keep_best` have seen of the validation evaluations (checkpointed).
    public var validation = ValidationProgress()

    static let format = "loupe-trial-state/1"

    public init(model: any Model, optimizer: any Optimizer, batcher: Batcher, step: Int = 0, seconds: Double = 0) {
        self.model = model
        self.optimizer = optimizer
        self.batcher = batcher
        self.step = step
        self.seconds = seconds
    }

    /// The layers that draw random numbers, by path.
    private var randomLayers: [(name: String, layer: any RandomLayer)] {
        model.namedSublayers().compactMap { name, layer in (layer as? any RandomLayer).map { (name, $0) } }
    }

    /// The state as safetensors bytes; the same state always gives the same bytes.
    public func encoded() throws -> Data {
        var tensors = model.parameters.map { ("model/" + $0.name, $0.parameter.value) }
        tensors += optimizer.state.namedTensors.map { ("optimizer/" + $0.name, $0.tensor) }
        let position = batcher.state
        var metadata = [
            "format": Self.format, "step": String(step), "seconds": String(seconds),
            "optimizer": optimizer.name, "optimizer.step": String(optimizer.state.step),
            "batcher.generator": try RandomGenerator(state: position.generator).stateText,
            "batcher.produced": String(position.batchesProduced), "batcher.epoch": String(position.epoch),
            "batcher.position": String(position.position),
        ]
        for (name, layer) in randomLayers { metadata["rng.\(name)"] = layer.generator.stateText }
        if let best = validation.best, let bestStep = validation.bestStep {
            metadata["validation.best"] = "\(best)"
            metadata["validation.best_step"] = String(bestStep)
            metadata["validation.since_best"] = String(validation.sinceBest)
            for (name, tensor) in (validation.bestWeights ?? [:]).sorted(by: { $0.key < $1.key }) { tensors.append(("best/" + name, tensor)) }
        }
        return try Safetensors.encode(tensors, metadata: metadata)
    }

    /// Writes the checkpoint file atomically.
    public func write(to url: URL) throws {
        try writeAtomically(try encoded(), to: url)
    }

    /// Continues from the checkpoint at `url`, which must have been written by a state with the
    /// same model, optimizer rule and batching.
    public func restore(from url: URL) throws {
        try restore(from: Data(contentsOfFile: url), path: url.path)
    }

    /// Continues from checkpoint bytes; `path` names them in errors.
    public func restore(from data: Data, path: String) throws {
        func fail(_ message: String) -> LoupeError { .file(path: path, message: message) }
        let (tensors, metadata) = try Safetensors.decode(data, path: path)
        guard metadata["format"] == Self.format else {
            throw fail("is not a Loupe trial checkpoint (format \(metadata["format"] ?? "missing"), expected \(Self.format))")
        }
        func count(_ key: String) throws -> Int {
            guard let value = metadata[key].flatMap(Int.init), value >= 0 else { throw fail("metadata \(key) is missing or not a count") }
            return value
        }
        func generator(_ key: String) throws -> RandomGenerator {
            guard let text = metadata[key] else { throw fail("metadata \(key) is missing") }
            do { return try RandomGenerator(stateText: text) } catch { throw fail("metadata \(key) is not a generator state") }
        }
        var weights: [String: Tensor] = [:], slots: [String: Tensor] = [:], best: [String: Tensor] = [:]
        for (name, tensor) in tensors {
            if name.hasPrefix("model/") {
                weights[String(name.dropFirst(6))] = tensor
            } else if name.hasPrefix("optimizer/") {
                slots[String(name.dropFirst(10))] = tensor
            } else if name.hasPrefix("best/") {
                best[String(name.dropFirst(5))] = tensor
            } else {
                throw fail("tensor \(name) is neither model/…, optimizer/… nor best/…")
            }
        }
        try Checkpoint.validate(weights, against: model.parameters, path: path)
        var progress = ValidationProgress()
        if let text = metadata["validation.best"] {
            guard let value = Double(text) else { throw fail("metadata validation.best is not a number") }
            progress.best = value
            progress.bestStep = try count("validation.best_step")
            progress.sinceBest = try count("validation.since_best")
            if !best.isEmpty {
                try Checkpoint.validate(best, against: model.parameters, path: path)
                progress.bestWeights = best
            }
        }
        guard metadata["optimizer"] == optimizer.name else {
            throw fail("holds \(metadata["optimizer"] ?? "no") optimizer state, not \(optimizer.name)")
        }
        let step = try count("step"), optimizerStep = try count("optimizer.step")
        guard let seconds = metadata["seconds"].flatMap(Double.init), seconds.isFinite, seconds >= 0 else {
            throw fail("metadata seconds is missing or not a duration")
        }
        let position = BatcherState(generator: try generator("batcher.generator").state, batchesProduced: try count("batcher.produced"),
                                    epoch: try count("batcher.epoch"), position: try count("batcher.position"))
        let batcher: Batcher
        do {
            batcher = try Batcher(dataset: self.batcher.dataset, batchSize: self.batcher.batchSize, mode: self.batcher.mode,
                                  state: position, prefetch: self.batcher.prefetches)
        } catch { throw fail("batcher state does not fit the training data (\(error))") }
        let layerGenerators = try randomLayers.map { ($0.layer, try generator("rng.\($0.name)")) }
        // The optimizer validates every slot before it keeps any; after it nothing can fail.
        do { try optimizer.loadState(slots, step: optimizerStep, parameters: model.parameters) } catch let error as LoupeError {
            throw fail("optimizer state does not fit the model (\(error))")
        }
        for p in model.parameters { p.parameter.value = weights[p.name]! }
        for (layer, generator) in layerGenerators { layer.generator = generator }
        self.batcher = batcher
        self.step = step
        self.seconds = seconds
        self.validation = progress
    }
}

/// The best validation evaluation so far, how many evaluations since, and (for `keep_best`)
/// the weights it was measured on.
public struct ValidationProgress: Sendable {
    public var best: Double?
    public var bestStep: Int?
    public var sinceBest = 0
    public var bestWeights: [String: Tensor]?
    /// Set when early stopping ended the trial (not checkpointed: the trial then ends).
    public var stoppedEarly = false
    public init() {}

    /// Records an evaluation of `value` (lower is better when `lowerIsBetter`) at `step`;
    /// returns whether it is the best so far by more than `minimumDelta`.
    public mutating func record(_ value: Double, lowerIsBetter: Bool, minimumDelta: Double, at step: Int) -> Bool {
        let improved = best.map { lowerIsBetter ? value < $0 - minimumDelta : value > $0 + minimumDelta } ?? true
        if improved {
            best = value
            bestStep = step
            sinceBest = 0
        } else {
            sinceBest += 1
        }
        return improved
    }
}

extension Data {
    /// The bytes of the file at `url`; throws a `LoupeError` naming it.
    init(contentsOfFile url: URL) throws {
        do { try self.init(contentsOf: url) } catch {
            throw LoupeError.file(path: url.path, message: "cannot be read (\(error.localizedDescription))")
        }
    }
}
