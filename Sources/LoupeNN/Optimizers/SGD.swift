import LoupeCore

/// Stochastic gradient descent (`tf.train.GradientDescentOptimizer`, `torch.optim.SGD` without
/// momentum): θ −= lr·(g + wd·θ). Identical in both variants. PyTorch spelling: `lr`, `weight_decay`.
public final class SGD: Optimizer {
    public let name = "sgd"
    public var learningRate: Float
    public let weightDecay: Float
    public let state = OptimizerState()
    public let slotNames: [(name: String, initialValue: Float)] = []

    public init(learningRate: Float, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }

    public func apply(theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                      slots: [UnsafeMutablePointer<Float>], range: Range<Int>, step: Int) {
        let lr = learningRate, wd = weightDecay
        vectorUpdate(range, theta, gradient, slots) { t, g, _, _, _ in
            t -= lr * (g + wd * t)
        }
    }
}
