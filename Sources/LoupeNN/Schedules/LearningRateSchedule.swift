import Foundation
import LoupeCore

/// The learning rate as a function of the step (0 for the first update), as Keras'
/// `LearningRateSchedule`s. The trainer sets `optimizer.learningRate = schedule(step)` before each update.
public protocol LearningRateSchedule: Sendable {
    func callAsFunction(_ step: Int) -> Float
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule {
    public let learningRate: Float
    public init(_ learningRate: Float) { self.learningRate = learningRate }
    public func callAsFunction(_ step: Int) -> Float { learningRate }
}

/// lr · factor^⌊step / every⌋ (PyTorch `StepLR`: gamma, step_size).
public struct StepSchedule: LearningRateSchedule {
    public let initial: Float, factor: Float, every: Int
    public init(initial: Float, factor: Float, every: Int) throws {
        guard every > 0 else { throw LoupeError.invalidArgument(name: "step_size", message: "must be positive, got \(every)") }
        (self.initial, self.factor, self.every) = (initial, factor, every)
    }
    public func callAsFunction(_ step: Int) -> Float {
        initial * Float(Foundation.pow(Double(factor), Double(step / every)))
    }
}

/// lr · rate^(step / decaySteps), or ^⌊step / decaySteps⌋ when `staircase`
/// (`tf.train.exponential_decay`).
public struct ExponentialSchedule: LearningRateSchedule {
    public let initial: Float, decayRate: Float, decaySteps: Int, staircase: Bool
    public init(initial: Float, decayRate: Float, decaySteps: Int, staircase: Bool = false) throws {
        guard decaySteps > 0 else { throw LoupeError.invalidArgument(name: "decay_steps", message: "must be positive, got \(decaySteps)") }
        (self.initial, self.decayRate, self.decaySteps, self.staircase) = (initial, decayRate, decaySteps, staircase)
    }
    public func callAsFunction(_ step: Int) -> Float {
        let p = Double(step) / Double(decaySteps)
        return initial * Float(Foundation.pow(Double(decayRate), staircase ? p.rounded(.down) : p))
    }
}

/// Cosine decay from lr to lr·alpha over `decaySteps`, then flat (`tf.keras.optimizers.schedules.CosineDecay`):
/// lr · ((1 − α)·½(1 + cos(π·min(step, T)/T)) + α).
public struct CosineSchedule: LearningRateSchedule {
    public let initial: Float, decaySteps: Int, alpha: Float
    public init(initial: Float, decaySteps: Int, alpha: Float = 0) throws {
        guard decaySteps > 0 else { throw LoupeError.invalidArgument(name: "decay_steps", message: "must be positive, got \(decaySteps)") }
        (self.initial, self.decaySteps, self.alpha) = (initial, decaySteps, alpha)
    }
    public func callAsFunction(_ step: Int) -> Float {
        let progress = Double(min(step, decaySteps)) / Double(decaySteps)
        let cosine = 0.5 * (1 + Foundation.cos(Double.pi * progress))
        return initial * Float((1 - Double(alpha)) * cosine + Double(alpha))
    }
}

/// Rises linearly from 0 to `after(0)` over `warmupSteps` (step s gives after(0)·(s + 1)/warmupSteps),
/// then follows `after` counted from the end of warmup.
public struct LinearWarmupSchedule: LearningRateSchedule {
    public let warmupSteps: Int
    public let after: any LearningRateSchedule
    public init(warmupSteps: Int, then after: any LearningRateSchedule) throws {
        guard warmupSteps >= 0 else { throw LoupeError.invalidArgument(name: "warmup_steps", message: "must not be negative, got \(warmupSteps)") }
        self.warmupSteps = warmupSteps
        self.after = after
    }
    public func callAsFunction(_ step: Int) -> Float {
        step < warmupSteps ? after(0) * Float(step + 1) / Float(warmupSteps) : after(step - warmupSteps)
    }
}
