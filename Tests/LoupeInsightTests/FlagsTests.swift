import LoupeLab
import Testing
@testable import LoupeInsight

@Suite struct FlagsTests {
    func trial(_ id: String, test: Double? = 0.5, train: Double? = 0.6, losses: [Double] = [2, 1],
               status: TrialStatus = .completed) -> TrialResult {
        let summary = TrialSummary(id: id, status: status, steps: 20, seconds: 1, testAccuracy: test, trainAccuracy: train,
                                   finalLoss: losses.last, activations: ["conv1": .init(mean: 0.1, variance: 0.2)],
                                   parameters: 10, settings: [:], divergedAtStep: status == .diverged ? 20 : nil)
        let metrics = losses.enumerated().map { MetricRow(step: $0.offset * 10, loss: $0.element, accuracy: 0.5, learningRate: 0.1, seconds: 0) }
        return TrialResult(id: id, summary: summary, metrics: metrics, firstLayer: nil)
    }

    @Test func identicalNeedsEveryMeasurementEqual() {
        let nearly = 1.0.nextUp   // one bit off in a loss the summary does not repeat
        let trials = [trial("a", losses: [2, 1]), trial("b", losses: [2, 1]), trial("c", losses: [nearly, 1]),
                      trial("d", test: 0.5000001), trial("e", test: nil), trial("f", test: nil)]
        let flags = Flags.flags(for: trials, overfittingGap: 0.25)
        #expect(flags["a"] == [.identical(to: ["b"])] && flags["b"] == [.identical(to: ["a"])])
        for id in ["c", "d", "e", "f"] { #expect(flags[id] == nil, "\(id): \(String(describing: flags[id]))") }
    }

    @Test func threeCopiesNameEachOther() {
        let flags = Flags.flags(for: [trial("x"), trial("y"), trial("z")], overfittingGap: 0.25)
        #expect(flags["y"] == [.identical(to: ["x", "z"])])
    }

    @Test func overfittingIsAGapAboveTheThreshold() {
        let trials = [trial("under", test: 0.5, train: 0.75), trial("over", test: 0.42, train: 0.97, losses: [3])]
        let flags = Flags.flags(for: trials, overfittingGap: 0.25)
        #expect(flags["under"] == nil)
        #expect(flags["over"] == [.overfitting(train: 0.97, test: 0.42)])
        #expect(flags["over"]?.first?.text == "overfitting: gap 0.550 (train 0.970, test 0.420)")
    }

    @Test func divergedAndFailedAreFlagged() {
        let flags = Flags.flags(for: [trial("d", test: nil, train: nil, status: .diverged), trial("f", test: nil, status: .failed)],
                                overfittingGap: 0.25)
        #expect(flags["d"] == [.diverged(step: 20)])
        #expect(flags["f"] == [.failed(message: "no message")])
    }

    @Test func aNetworkThatPredictsOneClassIsFlagged() {
        var dead = trial("dead", test: 0.1, train: 0.1)
        dead.summary.confusion = (0..<3).map { _ in [0, 0, 10] }
        var alive = trial("alive", test: 0.7, losses: [3, 2])
        alive.summary.confusion = [[8, 1, 1], [2, 7, 1], [0, 3, 7]]
        let flags = Flags.flags(for: [dead, alive], overfittingGap: 0.25)
        #expect(flags["dead"] == [.singleClass(predicted: 2, classes: 3)])
        #expect(flags["alive"] == nil)
        #expect(flags["dead"]?.first?.text == "did not learn: predicts class 2 of 3 for every test image")
    }
}

/// Collapse is flagged from what every trial records, without the confusion probe.
@Suite struct CollapseFlagsTests {
    func trial(_ id: String, test: Double = 0.6, losses: [Double] = [2.3, 1.2, 0.9], activations: [String: ActivationStatistics] = [:],
               classes: Int? = 10, images: Int? = 1000) -> TrialResult {
        var summary = TrialSummary(id: id, status: .completed, steps: 30, seconds: 1, testAccuracy: test, trainAccuracy: test,
                                   finalLoss: losses.last, activations: activations, parameters: 10, settings: [:])
        summary.classes = classes
        summary.testImages = images
        let metrics = losses.enumerated().map { MetricRow(step: ($0.offset + 1) * 10, loss: $0.element, accuracy: 0.5, learningRate: 0.1, seconds: 0) }
        return TrialResult(id: id, summary: summary, metrics: metrics, firstLayer: nil)
    }

    @Test func aLayerDeadOnEveryTestImageIsNamed() {
        let dead = trial("dead", activations: ["conv1": .init(mean: 0.2, variance: 0.1), "conv2": .init(mean: 0, variance: 0)])
        let quiet = trial("quiet", activations: ["conv2": .init(mean: 1e-9, variance: 1e-12)])
        let flags = Flags.flags(for: [dead, quiet], overfittingGap: 0.25)
        #expect(flags["dead"] == [.deadLayer("conv2")])
        #expect(flags["dead"]?.first?.text.contains("conv2 is dead") == true)
        #expect(flags["quiet"] == nil)
    }

    @Test func aLossFarAboveItsStartIsCollapse() {
        let exploded = trial("exploded", losses: [2.3, 40, 900, 20_000])
        let noisy = trial("noisy", losses: [2.3, 1.0, 3.0, 4.5])
        let flags = Flags.flags(for: [exploded, noisy], overfittingGap: 0.25)
        #expect(flags["exploded"] == [.lossRose(start: 2.3, end: 20_000)])
        #expect(flags["noisy"] == nil, "\(String(describing: flags["noisy"]))")
    }

    @Test func accuracyAtChanceIsFlagged() {
        // 10 classes, 1000 images: chance 0.1, three binomial sd 3·√(0.09/1000) ≈ 0.0285.
        let flags = Flags.flags(for: [trial("guess", test: 0.125), trial("learned", test: 0.135), trial("unknown", test: 0.1, classes: nil)],
                                overfittingGap: 0.25)
        #expect(flags["guess"] == [.atChance(accuracy: 0.125, classes: 10)])
        #expect(flags["guess"]?.first?.text == "at chance: test accuracy 0.125 with 10 classes (guessing gives 0.100)")
        #expect(flags["learned"] == nil && flags["unknown"] == nil)
    }
}
