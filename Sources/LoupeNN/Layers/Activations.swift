import LoupeCore

/// max(x, 0).
public final class ReLU: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { relu(input) }
}

/// tanh(x).
public final class Tanh: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { LoupeCore.tanh(input) }
}

/// 1 / (1 + e⁻ˣ).
public final class Sigmoid: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { sigmoid(input) }
}
