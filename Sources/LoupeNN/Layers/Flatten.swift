import LoupeCore

/// [N, d1, d2, …] → [N, d1·d2·…], in row-major (NHWC) order as `tf.reshape(x, [-1, 7*7*64])`.
public final class Flatten: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard input.rank >= 1 else {
            throw LoupeError.shapeMismatch(op: "Flatten", message: "needs a batch dimension, got \(input.shape)")
        }
        return try reshape(input, [input.shape[0], input.shape.dropFirst().reduce(1, *)])
    }
}
