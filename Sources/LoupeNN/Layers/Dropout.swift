import LoupeCore

/// Inverted dropout (`tf.nn.dropout(x, keep_prob)`): while training, keeps each element with
/// probability `keepProbability` and scales it by 1 / keepProbability; in evaluation, the identity.
/// Owns its generator (a stream of the trial's seed), saved in checkpoints.
public final class Dropout: TrainingModeLayer, RandomLayer {
    public let keepProbability: Float
    public var isTraining = true
    public var generator: RandomGenerator

    public init(keepProbability: Float, generator: RandomGenerator) throws {
        guard keepProbability > 0 && keepProbability <= 1 else {
            throw LoupeError.invalidArgument(name: "Dropout keepProbability", message: "must be in (0, 1], got \(keepProbability)")
        }
        self.keepProbability = keepProbability
        self.generator = generator
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard isTraining else { return input }
        return try dropout(input, keepProbability: keepProbability, generator: &generator)
    }
}
