import Foundation

/// Code that runs at fixed points of a trial, beside the trainer's own work: snapshot
/// checkpoints at chosen steps, histograms every N steps, projections at the end. Every method
/// has an empty default. A hook that throws fails the trial, as the trainer's own errors do.
public protocol TrainerHook: AnyObject {
    /// Whether `afterStep` will read `trainer.state.lastGradients` once `steps` steps are done.
    func wantsGradients(afterStep steps: Int) -> Bool
    /// After each step's update; `trainer.state.step` counts the steps done.
    func afterStep(_ trainer: TrainerContext) throws
    /// After an evaluation during training.
    func afterEvaluation(_ trainer: TrainerContext, _ evaluation: EvaluationRow) throws
    /// After the checkpoint file at `url` was written.
    func afterCheckpoint(_ trainer: TrainerContext, at url: URL) throws
    /// When the trial has ended (completed or diverged) and its summary is written.
    func trialEnded(_ trainer: TrainerContext, _ summary: TrialSummary) throws
}

extension TrainerHook {
    public func wantsGradients(afterStep steps: Int) -> Bool { false }
    public func afterStep(_ trainer: TrainerContext) throws {}
    public func afterEvaluation(_ trainer: TrainerContext, _ evaluation: EvaluationRow) throws {}
    public func afterCheckpoint(_ trainer: TrainerContext, at url: URL) throws {}
    public func trialEnded(_ trainer: TrainerContext, _ summary: TrialSummary) throws {}
}

/// What a hook sees: the trial, its live state and its folder.
public struct TrainerContext {
    public let trial: Trial
    public let state: TrialState
    public let layout: TrialLayout
}
