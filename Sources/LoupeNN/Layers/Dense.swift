import LoupeCore

/// A fully connected layer: y = x · weight + bias, x [N, inputSize], weight [inputSize, outputSize]
/// (`tf.layers.dense`, `Dense(inputSize:outputSize:)` in swift-apis).
public final class Dense: Layer {
    public let weight: Parameter
    public let bias: Parameter?

    public init(inputSize: Int, outputSize: Int, useBias: Bool = true,
                weightInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                generator: inout RandomGenerator) {
        weight = Parameter(weightInitializer.make([inputSize, outputSize], generator: &generator))
        bias = useBias ? Parameter(biasInitializer.make([outputSize], generator: &generator)) : nil
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard input.rank == 2, input.shape[1] == weight.shape[0] else {
            throw LoupeError.shapeMismatch(op: "Dense", message: "input \(input.shape) does not fit weight \(weight.shape) (expected [N, \(weight.shape[0])])")
        }
        let product = try matmul(input, weight.value)
        return try bias.map { try product + $0.value } ?? product
    }
}
