import LoupeCore

/// A network the trainer can train, evaluate and probe, whatever its inside: `Sequential` (the
/// CNNs, the LeNet builder, recurrent classifiers over `[batch, time, features]`) or any other.
///
/// - `forward` maps a batch `[N] + sampleShape` to logits `[N, classes]`, handing back the
///   outputs of the probe points named in `capturing`;
/// - `loss` turns logits and labels into the scalar the trainer differentiates;
/// - `parameters` are the trainable tensors with their names (found once, then kept: the same
///   name is the checkpoint key and the optimizer-state key);
/// - `probePoints` are the names `capturing` accepts, and `probePoint(named:)` resolves a name
///   a user gave (a layer) to the point it reads (`conv1` reads `relu1`, after the activation).
public protocol Model: Layer {
    var parameters: [NamedParameter] { get }
    func forward(_ input: Tensor, capturing: Set<String>) throws -> (output: Tensor, captured: [String: Tensor])
    func loss(logits: Tensor, labels: [Int32]) throws -> Tensor
    var probePoints: [String] { get }
    func probePoint(named name: String) throws -> String
}

extension Model {
    /// Softmax cross-entropy, mean over the batch (`tf.nn.softmax_cross_entropy_with_logits`
    /// then `tf.reduce_mean`), for classifiers.
    public func loss(logits: Tensor, labels: [Int32]) throws -> Tensor {
        try softmaxCrossEntropy(logits: logits, labels: labels)
    }

    /// The shape of one example's output for one example of `sampleShape` (`[H, W, C]` images,
    /// `[T, F]` sequences): a forward pass over one zero example, in evaluation mode and
    /// unrecorded. Throws the first layer's error when the shapes do not fit, naming the layer.
    public func outputShape(forSample sampleShape: [Int]) throws -> [Int] {
        let modal = ([self] + namedSublayers().map(\.layer)).compactMap { $0 as? any TrainingModeLayer }
        let modes = modal.map(\.isTraining)
        eval()
        defer { for (layer, mode) in zip(modal, modes) { layer.isTraining = mode } }
        let output = try withoutRecording { try forward(Tensor.zeros([1] + sampleShape), capturing: []).output }
        return Array(output.shape.dropFirst())
    }
}
