import LoupeCore

/// 2-D convolution over NHWC input with an HWIO filter [KH, KW, C, OC] and an optional bias [OC]
/// (`tf.nn.conv2d` + `tf.nn.bias_add`); stride and SAME/VALID padding as TensorFlow.
public final class Conv2D: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let strides: (height: Int, width: Int)
    public let padding: Padding

    public init(filterShape: (height: Int, width: Int, inputChannels: Int, outputChannels: Int),
                strides: (height: Int, width: Int) = (1, 1), padding: Padding = .same, useBias: Bool = true,
                weightInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                generator: inout RandomGenerator) {
        let shape = [filterShape.height, filterShape.width, filterShape.inputChannels, filterShape.outputChannels]
        weight = Parameter(weightInitializer.make(shape, generator: &generator))
        bias = useBias ? Parameter(biasInitializer.make([filterShape.outputChannels], generator: &generator)) : nil
        self.strides = strides
        self.padding = padding
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try conv2d(input, filter: weight.value, bias: bias?.value, strides: strides, padding: padding)
    }

    /// This convolution, then ReLU, then max-pooling over 2x2 windows with stride 2: what
    /// Sequential runs for Conv2D → ReLU → MaxPool2D (`conv2dReLUMaxPool`).
    public func reluMaxPool(_ input: Tensor, poolPadding: Padding) throws -> Tensor {
        try conv2dReLUMaxPool(input, filter: weight.value, bias: bias?.value, strides: strides, padding: padding,
                              poolPadding: poolPadding)
    }
}
