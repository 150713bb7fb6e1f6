import Foundation
import LoupeCore
import LoupeData
import LoupeNN

/// The step loop of one trial, from `state.step` to `train.steps`: each step takes the learning
/// rate from the schedule and the next batch from the state's batcher, then `trainStep`. Every
/// `log_every` steps (and at the last) a metrics row goes to the sinks; every `eval_every` steps
/// the test accuracy; every `checkpoint_every` steps the state is written to the checkpoint file;
/// the hooks run after each of these.
final class Trainer {
    /// How the loop ended.
    enum Outcome: Equatable {
        case completed
        /// Stopped before the update of `step`: `tensor` was not finite.
        case diverged(step: Int, tensor: String, loss: Float)
        /// Stopped at the caller's step limit, saving nothing more (as a kill would leave it).
        case stopped
        /// Stopped on a `StopRequest` after a step, with the checkpoint written.
        case interrupted
    }

    let context: TrainerContext
    let config: TrialConfig
    let test: Dataset
    let validation: Dataset?
    let sinks: [any MetricSink]
    let hooks: [any TrainerHook]
    let stopRequest: StopRequest?
    /// Every metrics row of the trial: its earlier sessions', then this one's.
    private(set) var rows: [MetricRow]
    private let clock = ContinuousClock()
    private var sessionStart: ContinuousClock.Instant
    private let secondsBefore: Double

    init(context: TrainerContext, config: TrialConfig, test: Dataset, validation: Dataset? = nil, history: TrialHistory,
         sinks: [any MetricSink], hooks: [any TrainerHook], stopRequest: StopRequest? = nil) {
        self.context = context
        self.config = config
        self.test = test
        self.validation = validation
        self.sinks = sinks
        self.hooks = hooks
        self.stopRequest = stopRequest
        rows = history.rows
        sessionStart = clock.now
        secondsBefore = context.state.seconds
    }

    /// Training seconds so far, this session's included.
    var seconds: Double { secondsBefore + (clock.now - sessionStart).seconds }

    func run(stoppingAt stop: Int? = nil) throws -> Outcome {
        let state = context.state, trial = context.trial, train = config.train
        state.model.train()
        while state.step < train.steps {
            if let stop, state.step >= stop { return .stopped }
            let step = state.step
            let learningRate = config.optimizer.schedule.schedule(step)
            let batch = state.batcher.next()
            let keep = hooks.contains { $0.wantsGradients(afterStep: step + 1) }
            let outcome = try state.trainStep(images: batch.images, labels: batch.labels, learningRate: learningRate,
                                              clipNorm: config.optimizer.clipNorm, keepingGradients: keep)
            let loss: Float, accuracy: Double
            switch outcome {
            case let .updated(stepLoss, stepAccuracy):
                (loss, accuracy) = (stepLoss, stepAccuracy)
            case let .nonFinite(tensor, stepLoss):
                state.seconds = seconds
                return .diverged(step: step, tensor: tensor, loss: stepLoss)
            }
            if step % train.logEvery == 0 || step == train.steps - 1 {
                let row = MetricRow(step: step, loss: Double(loss), accuracy: accuracy, learningRate: Double(learningRate), seconds: seconds)
                rows.append(row)
                for sink in sinks { sink.trialLogged(trial, row) }
            }
            for sink in sinks { sink.trialStepped(trial, step: step, loss: loss) }
            state.step = step + 1
            for hook in hooks { try hook.afterStep(context) }
            let done = state.step, last = done == train.steps
            if train.evalEvery > 0 && done % train.evalEvery == 0 && !last {
                var evaluation = EvaluationRow(step: done, testAccuracy: try Evaluation.evaluate(state.model, on: test, classes: test.classCount).accuracy)
                var stopEarly = false
                if let validation {
                    let measured = try EvaluationReport(state.model, on: validation)
                    (evaluation.validationLoss, evaluation.validationAccuracy) = (measured.loss, measured.accuracy)
                    stopEarly = watch(measured, at: done)
                }
                for sink in sinks { sink.trialEvaluated(trial, evaluation) }
                for hook in hooks { try hook.afterEvaluation(context, evaluation) }
                if stopEarly {
                    state.validation.stoppedEarly = true
                    state.seconds = seconds
                    return .completed
                }
            }
            let interrupted = !last && stopRequest?.isRequested == true
            if (train.checkpointEvery > 0 && done % train.checkpointEvery == 0 && !last) || interrupted {
                state.seconds = seconds
                try state.write(to: context.layout.checkpoint)
                for hook in hooks { try hook.afterCheckpoint(context, at: context.layout.checkpoint) }
            }
            if interrupted { return .interrupted }
        }
        state.seconds = seconds
        return .completed
    }

    /// Early stopping and `keep_best` on a validation evaluation: keeps the weights of a new
    /// best, and says whether patience has run out.
    private func watch(_ measured: EvaluationReport, at step: Int) -> Bool {
        let train = config.train, state = context.state
        guard train.earlyStopping != nil || train.keepBest else { return false }
        let lower = train.watchedMetric == .validationLoss
        let improved = state.validation.record(lower ? measured.loss : measured.accuracy, lowerIsBetter: lower,
                                               minimumDelta: train.earlyStopping?.minimumDelta ?? 0, at: step)
        if improved && train.keepBest {
            // Tensors are copy-on-write: the next update copies, these stay as measured.
            state.validation.bestWeights = Dictionary(uniqueKeysWithValues: state.model.parameters.map { ($0.name, $0.parameter.value) })
        }
        guard let patience = train.earlyStopping?.patience else { return false }
        return state.validation.sinceBest >= patience
    }
}

extension Duration {
    /// The duration in seconds, as a Double (trainer clocks, inspection timings).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
