import LoupeCore

/// 2-D max pooling over NHWC (`tf.nn.max_pool`); padding cells never win.
public final class MaxPool2D: Layer {
    public let poolSize: (height: Int, width: Int)
    public let strides: (height: Int, width: Int)
    public let padding: Padding

    public init(poolSize: (height: Int, width: Int) = (2, 2), strides: (height: Int, width: Int)? = nil,
                padding: Padding = .same) {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try maxPool2D(input, kernel: poolSize, strides: strides, padding: padding)
    }

    /// The output and the switches (argmax of each window), for deconvnet projections.
    public func withSwitches(_ input: Tensor) throws -> (output: Tensor, switches: PoolSwitches) {
        try maxPool2DWithSwitches(input, kernel: poolSize, strides: strides, padding: padding)
    }
}
