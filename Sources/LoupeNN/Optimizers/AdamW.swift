import LoupeCore

/// Adam with decoupled weight decay (Loshchilov & Hutter 2019). Default decay 0.01; slots `m`, `v`:
///
///     .tf1 (tf.contrib.opt.AdamWOptimizer): θ −= wd·θ, then the TF1 Adam step
///     .pytorch (torch.optim.AdamW): θ −= lr·wd·θ, then the PyTorch Adam step
///
/// See `Adam` for the step itself.
public final class AdamW: Adam {
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0.01, variant: OptimizerVariant = .tf1) {
        super.init(name: "adamw", learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                   weightDecay: weightDecay, decoupled: true, variant: variant)
    }
}
