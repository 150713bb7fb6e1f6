import Foundation
import LoupeCore
import LoupeData
import LoupeLab
import LoupeNN

/// Draws the inspection of `inspect:` into the trial's `inspect/` folder when the trial has
/// trained (`loupe run` adds it to trials whose file has the key). It runs before the trial's
/// summary is written, so a kill during it redoes it on `--resume`. Diverged trials are not drawn.
public final class InspectionHook: TrainerHook {
    let config: InspectConfig
    let data: TrialData

    public init(config: InspectConfig, data: TrialData) {
        self.config = config
        self.data = data
    }

    public func trialEnded(_ trainer: TrainerContext, _ summary: TrialSummary) throws {
        guard summary.status == .completed, let model = trainer.state.model as? Sequential else { return }
        let trial = trainer.trial, data = self.data
        let inspector = try Inspector(
            model: model, dataset: data.test, config: config, trialID: trial.id,
            snapshots: Inspector.snapshots(in: trainer.layout), finalStep: trainer.state.step,
            makeModel: { try trial.config.model.make(sampleShape: data.train.sampleShape, classes: data.train.classCount,
                                                     streams: RandomStreams(seed: trial.config.train.seed)) })
        model.eval()
        defer { model.train() }
        try inspector.write(to: trainer.layout.inspection)
    }
}
