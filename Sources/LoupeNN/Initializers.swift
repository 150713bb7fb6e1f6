import Foundation
import LoupeCore

/// How a weight or bias starts. Fans: a dense [in, out] weight has fan-in `in` and fan-out `out`;
/// an HWIO filter has fan-in kh·kw·in and fan-out kh·kw·out (Keras' convention).
public enum Initializer: Sendable, Equatable {
    /// Normal redrawn beyond two standard deviations (`tf.truncated_normal`); the reference CNN
    /// uses standard deviation 0.1.
    case truncatedNormal(mean: Float = 0, standardDeviation: Float)
    case normal(mean: Float = 0, standardDeviation: Float)
    case uniform(lowerBound: Float, upperBound: Float)
    /// Glorot & Bengio 2010, uniform in ±√(6 / (fanIn + fanOut)) (`glorot_uniform`, Xavier uniform).
    case glorotUniform
    /// Glorot normal: normal with std √(2 / (fanIn + fanOut)) (Xavier normal, PyTorch's form).
    case glorotNormal
    /// He et al. 2015: normal with std √(2 / fanIn) (`kaiming_normal_`, fan-in mode).
    case heNormal
    /// He uniform: uniform in ±√(6 / fanIn).
    case heUniform
    case constant(Float)
    case zeros

    /// A tensor of `shape` drawn from `generator` (which is advanced only by random kinds).
    public func make(_ shape: [Int], generator: inout RandomGenerator) -> Tensor {
        let (fanIn, fanOut) = Self.fans(shape)
        switch self {
        case let .truncatedNormal(mean, std):
            return .truncatedNormal(shape, mean: mean, standardDeviation: std, generator: &generator)
        case let .normal(mean, std):
            return .randomNormal(shape, mean: mean, standardDeviation: std, generator: &generator)
        case let .uniform(lower, upper):
            return .randomUniform(shape, lowerBound: lower, upperBound: upper, generator: &generator)
        case .glorotUniform:
            let limit = Float((6 / Double(fanIn + fanOut)).squareRoot())
            return .randomUniform(shape, lowerBound: -limit, upperBound: limit, generator: &generator)
        case .glorotNormal:
            return .randomNormal(shape, standardDeviation: Float((2 / Double(fanIn + fanOut)).squareRoot()), generator: &generator)
        case .heNormal:
            return .randomNormal(shape, standardDeviation: Float((2 / Double(fanIn)).squareRoot()), generator: &generator)
        case .heUniform:
            let limit = Float((6 / Double(fanIn)).squareRoot())
            return .randomUniform(shape, lowerBound: -limit, upperBound: limit, generator: &generator)
        case let .constant(value):
            return Tensor(repeating: value, shape: shape)
        case .zeros:
            return .zeros(shape)
        }
    }

    /// (fan-in, fan-out) of a weight shape.
    static func fans(_ shape: [Int]) -> (Int, Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        default:
            let receptive = shape.dropLast(2).reduce(1, *)
            return (max(1, receptive * shape[shape.count - 2]), max(1, receptive * shape[shape.count - 1]))
        }
    }
}
