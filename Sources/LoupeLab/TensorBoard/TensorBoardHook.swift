import Foundation
import LoupeCore
import LoupeData
import LoupeNN

/// Writes what the trainer's state shows into the trial's TensorBoard log: at the end, a
/// histogram of every weight (tag = the parameter's name, `conv1.weight`) and the first
/// convolution's filters as an image (`filters/conv1.weight`, the report's `FilterGrid`); with
/// `tensorboard.histogram_every: N`, every N steps the same plus the step's gradients
/// (`gradients/<parameter>`, before clipping) and the activations of the named layers
/// (`activations/<layer>`) over the first 100 test examples in evaluation mode. After each
/// checkpoint it marks the log (see `TensorBoardLog`). It reads the state and changes nothing
/// the training uses: the evaluation-mode forward draws no random numbers.
public final class TensorBoardHook: TrainerHook {
    public let log: TensorBoardLog
    let config: TensorBoardConfig
    let test: Dataset
    private var probePoints: [(layer: String, point: String)]?
    private var examples: Tensor?
    private var lastWritten = -1
    static let exampleCount = 100

    public init(log: TensorBoardLog, config: TensorBoardConfig, test: Dataset) {
        self.log = log
        self.config = config
        self.test = test
    }

    public func wantsGradients(afterStep steps: Int) -> Bool {
        config.histogramEvery > 0 && steps % config.histogramEvery == 0
    }

    public func afterStep(_ trainer: TrainerContext) throws {
        let model = trainer.state.model
        if probePoints == nil {
            // Resolved at the first step, so a misspelt layer fails the trial at once.
            probePoints = try config.activations.map { layer in
                do { return (layer, try model.probePoint(named: layer)) } catch {
                    throw LoupeError.config(key: "tensorboard.activations", message: "'\(layer)' is not a layer of the model (known: \(model.probePoints.joined(separator: ", ")))")
                }
            }
        }
        let step = trainer.state.step
        guard wantsGradients(afterStep: step) else { return }
        var values = Self.weights(of: model)
        if let gradients = trainer.state.lastGradients {
            for (name, tensor) in zip(gradients.names, gradients.tensors) {
                values.append(.histogram(tag: "gradients/\(name)", Self.histogram(tensor)))
            }
        }
        values += try activations(of: model)
        values += Self.filters(of: model)
        log.write(step: step, values, flush: true)
        lastWritten = step
    }

    public func afterCheckpoint(_ trainer: TrainerContext, at url: URL) throws {
        log.markCheckpoint(step: trainer.state.step)
    }

    public func trialEnded(_ trainer: TrainerContext, _ summary: TrialSummary) throws {
        guard summary.steps != lastWritten else { return }
        log.write(step: summary.steps, Self.weights(of: trainer.state.model) + Self.filters(of: trainer.state.model), flush: true)
    }

    static func histogram(_ tensor: Tensor) -> Histogram {
        tensor.withUnsafeBufferPointer { Histogram($0) }
    }

    static func weights(of model: any Model) -> [SummaryValue] {
        model.parameters.map { .histogram(tag: $0.name, histogram($0.parameter.value)) }
    }

    /// The first 4-D weight (a convolution's HWIO filters) as a filter grid PNG.
    static func filters(of model: any Model) -> [SummaryValue] {
        guard let first = model.parameters.first(where: { $0.parameter.value.rank == 4 }),
              let grid = try? FilterGrid(filters: first.parameter.value), let png = try? PNG.encode(grid.image) else { return [] }
        return [.image(tag: "filters/\(first.name)", width: grid.image.width, height: grid.image.height,
                       colorspace: grid.image.channels, png: png)]
    }

    private func activations(of model: any Model) throws -> [SummaryValue] {
        guard let probePoints, !probePoints.isEmpty else { return [] }
        if examples == nil {
            examples = test.batch(indices: Array(0..<min(Self.exampleCount, test.count))).images
        }
        model.eval()
        defer { model.train() }
        let captured = try model.forward(examples!, capturing: Set(probePoints.map(\.point))).captured
        return probePoints.compactMap { layer, point in
            captured[point].map { .histogram(tag: "activations/\(layer)", Self.histogram($0)) }
        }
    }
}
