import ArgumentParser
import Foundation
import LoupeCore
import LoupeData
import LoupeInsight
import LoupeLab
import LoupeNN

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "See inside a trained CNN (Zeiler & Fergus 2014): top images per feature map, deconvnet projections, occlusion, invariance, feature evolution.",
        discussion: """
        Writes PNG and SVG figures with an index.html and inspect.json into the trial's inspect/ folder (or --out). \
        Figures: \(InspectConfig.Figure.allCases.map(\.rawValue).joined(separator: ", ")). The settings default to the \
        experiment file's inspect: section, if it has one; the flags override it. Feature evolution needs the snapshots a \
        trial keeps when its file has inspect: (inspect.snapshots).
        """)

    @Argument(help: "A trial folder (holding config.yaml and weights.safetensors).") var trial: String
    @Option(help: "Figures to draw, comma-separated (default: all).") var what: String?
    @Option(name: .customLong("layer"), help: "Conv or pool layers, comma-separated (default: every conv layer).") var layers: String?
    @Option(help: "Test image indices for deconv, saliency, occlusion, invariance and maps, comma-separated (default: the first image of each of the first 5 classes).") var images: String?
    @Option(help: "Feature maps per layer in the top-images grid (0: all; else a seeded sample).") var maps: Int?
    @Option(help: "Images per feature map in the top-images grid (default 9).") var top: Int?
    @Option(help: "Test images searched (0: all).") var limit: Int?
    @Option(help: "Folder for the figures (default: TRIAL/inspect).") var out: String?
    @Option(help: "Worker threads (default: LOUPE_THREADS, else the cores; the figures are identical whatever this is).") var threads: Int?

    func run() throws {
        do {
            if let threads { try setThreads(threads) }
            let start = ContinuousClock.now
            let layout = TrialLayout(root: URL(fileURLWithPath: trial))
            let config = try TrialConfig(try layout.readConfigTree())
            var inspect = config.inspect ?? InspectConfig(steps: config.train.steps)
            if let what {
                inspect.figures = try list(what, flag: "--what").map { name in
                    switch InspectConfig.Figure.named(name) {
                    case let .success(figure): return figure
                    case let .failure(error): throw LoupeError.invalidArgument(name: "--what", message: error.message)
                    }
                }
            }
            if let layers { inspect.layers = try list(layers, flag: "--layer") }
            if let images {
                inspect.images = try list(images, flag: "--images").map { item in
                    guard let index = Int(item), index >= 0 else {
                        throw LoupeError.invalidArgument(name: "--images", message: "must list image indices (0, 1, …), got '\(item)'")
                    }
                    return index
                }
            }
            if let maps {
                guard maps >= 0 else { throw LoupeError.invalidArgument(name: "--maps", message: "must be 0 (all) or more, got \(maps)") }
                inspect.maps = maps
            }
            if let top {
                guard (1...100).contains(top) else { throw LoupeError.invalidArgument(name: "--top", message: "must be between 1 and 100, got \(top)") }
                inspect.top = top
            }
            if let limit {
                guard limit >= 0 else { throw LoupeError.invalidArgument(name: "--limit", message: "must be 0 (all) or more, got \(limit)") }
                inspect.limit = limit
            }
            guard FileManager.default.fileExists(atPath: layout.weights.path) else {
                throw LoupeError.file(path: layout.weights.path, message: "is missing: the trial has not finished (inspect looks at a trained network)")
            }
            let data = try TrialData.load(config.data)
            let streams = RandomStreams(seed: config.train.seed)
            let make = { try config.model.make(sampleShape: data.train.sampleShape, classes: data.train.classCount, streams: streams) }
            let model = try make()
            let metadata = try Checkpoint.loadWeights(into: model, from: layout.weights)
            let steps = metadata["steps"].flatMap(Int.init) ?? config.train.steps
            let inspector = try Inspector(model: model, dataset: data.test, config: inspect, trialID: layout.root.lastPathComponent,
                                          snapshots: Inspector.snapshots(in: layout), finalStep: steps, makeModel: make)
            let folder = out.map { URL(fileURLWithPath: $0) } ?? layout.inspection
            let manifest = try inspector.write(to: folder)
            for note in manifest.notes { say(note) }
            let parts = manifest.seconds.sorted { $0.key < $1.key }.map { String(format: "%@ %.2f s", $0.key, $0.value) }
            say(String(format: "%d figures in %.1f s (%@) → %@", manifest.figures.count,
                       (ContinuousClock.now - start).seconds,
                       parts.joined(separator: ", "), folder.appendingPathComponent(InspectionManifest.page).path))
        } catch { fail(error) }
    }

    func list(_ text: String, flag: String) throws -> [String] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw LoupeError.invalidArgument(name: flag, message: "must list at least one value") }
        return items
    }
}
