import Foundation
import LoupeCore

/// Adam (Kingma & Ba 2015). Defaults β1 0.9, β2 0.999, ε 1e-8; slots `m`, `v` (start at 0):
///
///     m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
///     .tf1 (tf.train.AdamOptimizer, the seed's): lrₜ = lr·√(1−β2ᵗ)/(1−β1ᵗ);  θ −= lrₜ·m/(√v + ε)
///     .pytorch (torch.optim.Adam): θ −= (lr/(1−β1ᵗ))·m/(√v/√(1−β2ᵗ) + ε)
///
/// The two differ in where ε sits relative to the bias correction. g + wd·θ for g when
/// `weightDecay` is set (L2, as Adam's `weight_decay` in PyTorch); see `AdamW` for decoupled decay.
/// Keras names `beta1`, `beta2`, `epsilon`; PyTorch `betas`, `eps`.
public class Adam: Optimizer {
    public let name: String
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let decoupledWeightDecay: Bool
    public let variant: OptimizerVariant
    public let state = OptimizerState()
    public let slotNames: [(name: String, initialValue: Float)] = [("m", 0), ("v", 0)]

    public convenience init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, variant: OptimizerVariant = .tf1) {
        self.init(name: "adam", learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                  weightDecay: weightDecay, decoupled: false, variant: variant)
    }

    init(name: String, learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
         weightDecay: Float, decoupled: Bool, variant: OptimizerVariant) {
        self.name = name
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupled
        self.variant = variant
    }

    public final func apply(theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                      slots: [UnsafeMutablePointer<Float>], range: Range<Int>, step: Int) {
        let (b1, b2, eps, lr) = (beta1, beta2, epsilon, learningRate)
        let correction1 = 1 - Foundation.pow(Double(b1), Double(step))
        let correction2 = 1 - Foundation.pow(Double(b2), Double(step))
        // Decoupled decay (AdamW) shrinks θ before the Adam step: by wd (TF1) or lr·wd (PyTorch).
        let shrink: Float = decoupledWeightDecay ? (variant == .tf1 ? weightDecay : lr * weightDecay) : 0
        let l2: Float = decoupledWeightDecay ? 0 : weightDecay
        switch variant {
        case .tf1:
            let stepSize = Float(Double(lr) * correction2.squareRoot() / correction1)
            vectorUpdate(range, theta, gradient, slots) { t, g0, m, v, _ in
                t -= shrink * t
                let g = g0 + l2 * t
                m = b1 * m + (1 - b1) * g
                v = b2 * v + (1 - b2) * (g * g)
                t -= stepSize * m / (v.squareRoot() + eps)
            }
        case .pytorch:
            let stepSize = Float(Double(lr) / correction1)
            let root2 = Float(correction2.squareRoot())
            vectorUpdate(range, theta, gradient, slots) { t, g0, m, v, _ in
                t -= shrink * t
                let g = g0 + l2 * t
                m = b1 * m + (1 - b1) * g
                v = b2 * v + (1 - b2) * (g * g)
                t -= stepSize * (m / (v.squareRoot() / root2 + eps))
            }
        }
    }
}
