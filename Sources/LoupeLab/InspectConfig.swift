import Foundation
import LoupeCore
import LoupeNN

/// `inspect:` — what `loupe run` shows of the inside of each trial's network once it has trained
/// (LoupeInsight draws it; `loupe inspect TRIAL_DIR` does the same for a finished trial), and the
/// snapshots of the weights that the feature-evolution figure needs, taken while it trains.
///
///     inspect:
///       what: [top9, deconv, evolution, invariance, occlusion, maps, saliency, filters, histograms]
///       layers: [conv1, conv2]    # default: every conv layer
///       maps: 0                   # feature maps per layer for top9 (0: all; else a seeded sample)
///       top: 9                    # images per feature map
///       images: [0, 1, 2, 3, 4]   # test images for deconv, invariance, occlusion, maps, saliency
///                                 # (default: the first test image of each of the first 5 classes)
///       limit: 0                  # test images searched for top9 and evolution (0: all)
///       snapshots: auto           # steps whose weights are kept: auto (1, 2, 5, 10, 20, 50 …) or a list
///       evolution_maps: 8         # feature maps per layer followed across the snapshots
///       occlusion: {size: 7, stride: 1, fill: mean}
public struct InspectConfig: Sendable, Equatable {
    public enum Figure: String, Sendable, CaseIterable {
        case top9, deconv, evolution, invariance, occlusion, maps, saliency, filters, histograms

        /// The figure called `name`, or the message for an unknown one: the figures, and the
        /// closest name to a typo.
        public static func named(_ name: String) -> Result<Figure, FigureNameError> {
            if let figure = Figure(rawValue: name) { return .success(figure) }
            let names = allCases.map(\.rawValue)
            var message = "unknown figure '\(name)'; figures: \(names.joined(separator: ", "))"
            if let suggestion = closestName(name, among: names) { message += "; did you mean '\(suggestion)'?" }
            return .failure(FigureNameError(message: message))
        }
    }

    public struct FigureNameError: Error, Sendable { public let message: String }

    public var figures: [Figure]
    /// Layer names as the user gave them; empty means every conv layer.
    public var layers: [String]
    public var maps: Int
    public var top: Int
    /// Test image indices; empty: the first image of each of the first five classes.
    public var images: [Int]
    public var limit: Int
    /// Steps after which the weights are kept in `snapshots/`, ascending; the final weights are
    /// always the last column of the evolution figure.
    public var snapshots: [Int]
    public var evolutionMaps: Int
    public var occlusionSize: Int?
    public var occlusionStride: Int
    /// nil: the data set's mean pixel.
    public var occlusionFill: Float?

    /// Everything, with the defaults above (`inspect: true`), for a trial of `steps` steps.
    public init(steps: Int) {
        // An empty mapping has nothing to refuse: every key takes its default.
        try! self.init(.empty(at: ConfigSource(file: "inspect", line: nil), path: "inspect", section: "inspect"), steps: steps)
    }

    init(_ r: ConfigReader, steps: Int) throws {
        figures = try r.stringList("what", default: Figure.allCases.map(\.rawValue)).map { name in
            switch Figure.named(name) {
            case let .success(figure): return figure
            case let .failure(error): throw r.fail("what", "names an " + error.message)
            }
        }
        layers = try r.stringList("layers") ?? []
        maps = try r.int("maps", default: 0, minimum: 0)!
        top = try r.int("top", default: 9, minimum: 1)!
        if top > 100 { throw r.fail("top", "must be at most 100, got \(top)") }
        images = try r.list("images")?.map { item in
            guard case let .scalar(text, _) = item, let index = Int(text), index >= 0 else {
                throw r.fail("images", "must be a list of test image indices (0, 1, …)")
            }
            return index
        } ?? []
        limit = try r.int("limit", default: 0, minimum: 0)!
        switch r.child("snapshots", default: .scalar("auto", r.node.source)) {
        case .scalar("auto", _):
            snapshots = Self.automaticSnapshots(steps: steps)
        case let .sequence(list, _):
            let steps = try list.map { item -> Int in
                guard case let .scalar(text, _) = item, let step = Int(text), step >= 1 else {
                    throw r.fail("snapshots", "must be 'auto' or a list of step counts (at least 1)")
                }
                return step
            }
            snapshots = Array(Set(steps)).sorted()
        default:
            throw r.fail("snapshots", "must be 'auto' or a list of step counts")
        }
        evolutionMaps = try r.int("evolution_maps", default: 8, minimum: 1)!
        let occlusion = try r.reader("occlusion", section: "inspect.occlusion")
            ?? .empty(at: r.node.source, path: r.key("occlusion"), section: "inspect.occlusion")
        occlusionSize = try occlusion.int("size", minimum: 1)
        occlusionStride = try occlusion.int("stride", default: 1, minimum: 1)!
        // nil: the data set's mean pixel.
        occlusionFill = try occlusion.string("fill", default: "mean") == "mean" ? nil : try occlusion.float("fill", minimum: 0, maximum: 1)
    }

    /// 1, 2, 5, 10, 20, 50, … below `steps` (the final weights make the last column).
    public static func automaticSnapshots(steps: Int) -> [Int] {
        var found: [Int] = []
        var decade = 1
        while decade < steps {
            for factor in [1, 2, 5] where decade * factor < steps { found.append(decade * factor) }
            decade *= 10
        }
        return found
    }

    /// `snapshots/step-000050.safetensors` in a trial folder.
    public static func snapshotFile(step: Int, in layout: TrialLayout) -> URL {
        layout.snapshots.appendingPathComponent(String(format: "step-%06d.safetensors", step))
    }
}

extension TrialLayout {
    /// The trial's resolved settings, `config.yaml`, as a tree (`loupe eval`, `loupe inspect`).
    public func readConfigTree() throws -> ConfigNode {
        let text: String
        do { text = try String(contentsOf: config, encoding: .utf8) } catch {
            throw LoupeError.file(path: config.path, message: "cannot be read: is \(root.path) a trial folder?")
        }
        return try ConfigNode.parse(yaml: text, file: config.path)
    }

    /// The weights kept at the steps `inspect.snapshots` names.
    public var snapshots: URL { root.appendingPathComponent("snapshots") }
    /// What `loupe inspect` (or `inspect:` in the experiment) drew: `index.html`, PNG and SVG files.
    public var inspection: URL { root.appendingPathComponent("inspect") }
}

/// Keeps the model's weights after the steps `inspect.snapshots` names, for the feature-evolution
/// figure. Each file is written atomically; a resumed trial rewrites the snapshots after its
/// checkpoint with the same bits.
public final class SnapshotHook: TrainerHook {
    let steps: Set<Int>
    public init(steps: [Int]) { self.steps = Set(steps) }

    public func afterStep(_ trainer: TrainerContext) throws {
        let step = trainer.state.step
        guard steps.contains(step) else { return }
        try FileManager.default.createDirectory(at: trainer.layout.snapshots, withIntermediateDirectories: true)
        try Checkpoint.saveWeights(of: trainer.state.model, to: InspectConfig.snapshotFile(step: step, in: trainer.layout),
                                   metadata: ["trial": trainer.trial.id, "steps": String(step)])
    }
}
