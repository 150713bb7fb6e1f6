import LoupeCore
import LoupeNN

/// What one training step did.
public enum StepOutcome: Equatable, Sendable {
    /// The parameters were updated; the minibatch's loss and accuracy before the update.
    case updated(loss: Float, accuracy: Double)
    /// Nothing was updated: `tensor` (`loss`, or `gradient of <parameter>`, the first in parameter
    /// order) held a NaN or an infinity.
    case nonFinite(tensor: String, loss: Float)
}

extension TrialState {
    /// One step on a minibatch: forward, the model's loss, backward; then, only if the loss and
    /// every gradient are finite, clipping by global norm (when `clipNorm` is set) and the
    /// optimizer's update at `learningRate`. Does not advance `step`: the trainer counts. With
    /// `keepingGradients`, `lastGradients` holds this step's gradients (before clipping)
    /// afterwards, for hooks; otherwise it is emptied, so the step's buffers can be reused.
    /// images: [N] + the model's sample shape  labels: [N]
    public func trainStep(images: Tensor, labels: [Int32], learningRate: Float, clipNorm: Float? = nil,
                          keepingGradients: Bool = false) throws -> StepOutcome {
        lastGradients = nil
        let model = self.model
        var logits: Tensor?
        let (loss, computed) = try valueAndGradient(of: model, parameters: model.parameters) { _ in
            let output = try model.forward(images, capturing: []).output
            logits = output
            return try model.loss(logits: output, labels: labels)
        }
        let lossValue = loss.scalar
        guard lossValue.isFinite else { return .nonFinite(tensor: "loss", loss: lossValue) }
        if let index = computed.tensors.firstIndex(where: { !$0.isFinite }) {
            return .nonFinite(tensor: "gradient of \(computed.names[index])", loss: lossValue)
        }
        if keepingGradients { lastGradients = computed }
        var gradients = computed
        if let clipNorm { try clipByGlobalNorm(&gradients, maxNorm: clipNorm) }
        optimizer.learningRate = learningRate
        try optimizer.update(model.parameters, along: gradients)
        return .updated(loss: lossValue, accuracy: Evaluation.accuracy(logits!, labels))
    }
}
