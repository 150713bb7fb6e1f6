import LoupeCore

/// Adagrad (Duchi et al. 2011), slot `accumulator`:
///
///     .tf1      (tf.train.AdagradOptimizer): acc starts at 0.1; acc += g²; θ −= lr·g/√acc
///     .pytorch  (torch.optim.Adagrad):       acc starts at 0;   acc += g²; θ −= lr·g/(√acc + ε), ε 1e-10
///
/// with g + wd·θ for g when `weightDecay` is set. Keras names `initialAccumulatorValue`, `epsilon`;
/// PyTorch `initial_accumulator_value`, `eps`.
public final class Adagrad: Optimizer {
    public let name = "adagrad"
    public var learningRate: Float
    public let initialAccumulatorValue: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let variant: OptimizerVariant
    public let state = OptimizerState()
    public var slotNames: [(name: String, initialValue: Float)] { [("accumulator", initialAccumulatorValue)] }

    public init(learningRate: Float, initialAccumulatorValue: Float? = nil, epsilon: Float? = nil,
                weightDecay: Float = 0, variant: OptimizerVariant = .tf1) {
        self.learningRate = learningRate
        self.variant = variant
        self.initialAccumulatorValue = initialAccumulatorValue ?? (variant == .tf1 ? 0.1 : 0)
        self.epsilon = epsilon ?? (variant == .tf1 ? 0 : 1e-10)
        self.weightDecay = weightDecay
    }

    public func apply(theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                      slots: [UnsafeMutablePointer<Float>], range: Range<Int>, step: Int) {
        let lr = learningRate, eps = epsilon, wd = weightDecay
        switch variant {
        case .tf1:
            vectorUpdate(range, theta, gradient, slots) { t, g0, acc, _, _ in
                let g = g0 + wd * t
                acc += g * g
                t -= lr * g / acc.squareRoot()
            }
        case .pytorch:
            vectorUpdate(range, theta, gradient, slots) { t, g0, acc, _, _ in
                let g = g0 + wd * t
                acc += g * g
                t -= lr * g / (acc.squareRoot() + eps)
            }
        }
    }
}
