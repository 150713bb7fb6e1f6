import LoupeCore

/// Gradient descent with momentum (`tf.train.MomentumOptimizer`; `torch.optim.SGD(momentum=)`),
/// default momentum 0.9, slot `momentum` (the accumulator a, starting at 0):
///
///     a = μ·a + g;  θ −= lr·a              (classic)
///     a = μ·a + g;  θ −= lr·(g + μ·a)      (Nesterov, `use_nesterov` / `nesterov=True`)
///
/// with g + wd·θ for g when `weightDecay` is set. TF1 and PyTorch agree here (PyTorch's buffer starts
/// at g on the first step, which is what a = μ·0 + g gives), so `variant` changes nothing; it is kept
/// so every rule can be asked for either. PyTorch spelling: `lr`, `momentum`, `nesterov`, `weight_decay`.
public final class Momentum: Optimizer {
    public let name = "momentum"
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public let variant: OptimizerVariant
    public let state = OptimizerState()
    public let slotNames: [(name: String, initialValue: Float)] = [("momentum", 0)]

    public init(learningRate: Float, momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0,
                variant: OptimizerVariant = .tf1) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.variant = variant
    }

    public func apply(theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                      slots: [UnsafeMutablePointer<Float>], range: Range<Int>, step: Int) {
        let lr = learningRate, mu = momentum, wd = weightDecay, nesterov = nesterov
        vectorUpdate(range, theta, gradient, slots) { t, g0, a, _, _ in
            let g = g0 + wd * t
            a = mu * a + g
            t -= nesterov ? lr * (g + mu * a) : lr * a
        }
    }
}
