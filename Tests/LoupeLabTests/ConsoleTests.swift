import Foundation
@testable import LoupeLab
import Testing

/// What the console prints: bars that never wrap, evaluations, the final evaluation, and time
/// on lines that go to a file.
@Suite struct ConsoleTests {
    final class Captured: @unchecked Sendable {
        let lock = NSLock()
        var text = ""
        func append(_ piece: String) { lock.withLock { text += piece } }
    }

    @Test func theProgressLineFitsTheTerminalForAnyNumberOfTrials() {
        for count in 1...12 {
            let bars = (0..<count).map { index in
                Console.Bar(id: count > 1 ? "adam-lr1.0e-3-seed\(index)-df6a9495" : "", fraction: Double(index) / 12,
                            steps: "\(index * 100)/3000", speed: "12.3 steps/s ETA 4m05s", loss: "1.234")
            }
            for width in [40, 80, 120, 150, 200] {
                let line = Console.barLine(bars, width: width)
                #expect(line.count < width, "\(count) bars at \(width) columns: \(line.count) characters")
                #expect(!line.contains("\n"))
                if count > 1 && width <= 80 { #expect(line.contains("more") || line.components(separatedBy: "│").count == count) }
            }
        }
        let one = Console.barLine([.init(id: "", fraction: 0.5, steps: "150/300", speed: "10.0 steps/s ETA 15s", loss: "1.000")], width: 80)
        #expect(one.contains("150/300") && one.contains("ETA 15s") && one.contains("loss 1.000"), "\(one)")
    }

    @Test func linesToAFileCarryTimeEvaluationsAndTheFinalEvaluation() throws {
        let captured = Captured()
        let console = Console(quiet: false, interactive: false, write: { captured.append($0) })
        let trial = try Experiment.parse(text: smallExperiment, path: "small.yaml").trials[0]
        console.trialStarted(trial, at: 0, history: TrialHistory())
        console.trialStepped(trial, step: 4, loss: 2.1)
        console.trialLogged(trial, MetricRow(step: 4, loss: 2.1, accuracy: 0.2, learningRate: 0.001, seconds: 1))
        console.trialEvaluated(trial, EvaluationRow(step: 10, testAccuracy: 0.25, validationLoss: 2.0, validationAccuracy: 0.3))
        console.trialEvaluating(trial)
        let text = captured.text
        #expect(text.contains("step 4, loss 2.100, train accuracy 0.20  [") && text.contains("elapsed, ETA "), "\(text)")
        #expect(text.contains("evaluation at step 10: test accuracy 0.250, validation loss 2.000, validation accuracy 0.300"), "\(text)")
        #expect(text.contains("evaluating the final weights on the test split"), "\(text)")
        #expect(!text.contains("\u{1B}["), "no terminal control codes in a file")
    }
}
