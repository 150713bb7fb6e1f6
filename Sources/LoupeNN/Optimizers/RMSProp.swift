import LoupeCore

/// RMSProp (Hinton, Lecture 6e), slots `ms` (mean square), `mom` (momentum), `mg` (mean gradient,
/// centered only):
///
///     .tf1 (tf.train.RMSPropOptimizer): ρ 0.9, ε 1e-10, ms starts at 1
///         ms = ρ·ms + (1−ρ)·g²;  mom = μ·mom + lr·g/√(ms + ε);  θ −= mom
///     .pytorch (torch.optim.RMSprop): ρ (α) 0.99, ε 1e-8, ms starts at 0
///         ms = ρ·ms + (1−ρ)·g²;  θ −= lr·g/(√ms + ε)   (momentum: buf = μ·buf + g/(√ms + ε); θ −= lr·buf)
///
/// Centered: mg = ρ·mg + (1−ρ)·g and ms − mg² replaces ms. g + wd·θ for g when `weightDecay` is set.
/// Keras names `rho`, `momentum`, `epsilon`, `centered`; PyTorch `alpha`, `momentum`, `eps`, `centered`.
public final class RMSProp: Optimizer {
    public let name = "rmsprop"
    public var learningRate: Float
    public let rho: Float
    public let momentum: Float
    public let epsilon: Float
    public let centered: Bool
    public let weightDecay: Float
    public let variant: OptimizerVariant
    public let state = OptimizerState()
    public var slotNames: [(name: String, initialValue: Float)] {
        [("ms", variant == .tf1 ? 1 : 0), ("mom", 0)] + (centered ? [("mg", 0)] : [])
    }

    public init(learningRate: Float, rho: Float? = nil, momentum: Float = 0, epsilon: Float? = nil,
                centered: Bool = false, weightDecay: Float = 0, variant: OptimizerVariant = .tf1) {
        self.learningRate = learningRate
        self.variant = variant
        self.rho = rho ?? (variant == .tf1 ? 0.9 : 0.99)
        self.momentum = momentum
        self.epsilon = epsilon ?? (variant == .tf1 ? 1e-10 : 1e-8)
        self.centered = centered
        self.weightDecay = weightDecay
    }

    public func apply(theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                      slots: [UnsafeMutablePointer<Float>], range: Range<Int>, step: Int) {
        let lr = learningRate, rho = rho, mu = momentum, eps = epsilon, wd = weightDecay
        let centered = centered, tf1 = variant == .tf1
        vectorUpdate(range, theta, gradient, slots) { t, g0, ms, mom, mg in
            let g = g0 + wd * t
            ms = rho * ms + (1 - rho) * (g * g)
            var meanSquare = ms
            if centered {
                mg = rho * mg + (1 - rho) * g
                meanSquare = ms - mg * mg
            }
            if tf1 {
                mom = mu * mom + lr * g / (meanSquare + eps).squareRoot()
                t -= mom
            } else if mu > 0 {
                mom = mu * mom + g / (meanSquare.squareRoot() + eps)
                t -= lr * mom
            } else {
                t -= lr * g / (meanSquare.squareRoot() + eps)
            }
        }
    }
}
