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
