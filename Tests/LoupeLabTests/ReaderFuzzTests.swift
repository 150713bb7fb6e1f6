import Foundation
import LoupeCore
import LoupeLab
import Testing

/// The files `--resume` and `loupe report` read back, and experiment files, mangled: empty,
/// truncated at every offset of their start and at 1, 8, n/2 and n−1 bytes, and thousands of
/// seeded random bit flips. Each read either succeeds or throws a `LoupeError` naming the file;
/// none traps or hangs.
@Suite struct ReaderFuzzTests {
    /// The cases for `good`: truncations, then `flips` single-bit flips from a seeded generator.
    private func mangled(_ good: Data, flips: Int, seed: UInt64) -> [Data] {
        let n = good.count
        var cases = [Data()] + (1..<min(n, 64)).map { good.prefix($0) } + [1, 8, n / 2, n - 1].map { good.prefix($0) }
        var g = RandomGenerator(seed: seed)
        for _ in 0..<flips {
            var flipped = good
            flipped[g.nextInt(below: n)] ^= UInt8(1 << g.nextInt(below: 8))
            cases.append(flipped)
        }
        return cases
    }

    private func expectCleanFailures(_ cases: [Data], name: String, _ read: (URL) throws -> Void) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent(name)
        for data in cases {
            try data.write(to: url)
            do { try read(url) } catch let error as LoupeError {
                #expect("\(error)".contains(name), "\(error)")
            } catch {
                Issue.record("not a LoupeError: \(error)")
            }
        }
    }

    @Test func metricsAndEvaluationsFiles() throws {
        let rows = (0..<30).map { MetricRow(step: $0 * 10, loss: 2.3 - Double($0) / 20, accuracy: 0.1, learningRate: 1e-3, seconds: Double($0)) }
        let metrics = Data(([MetricRow.header] + rows.map(\.csvLine)).joined(separator: "\n").utf8 + [10])
        try expectCleanFailures(mangled(metrics, flips: 2000, seed: 1), name: "metrics.csv") { _ = try MetricRow.read($0) }
        let evaluations = Data(([EvaluationRow.header] + (1...9).map { EvaluationRow(step: $0 * 100, testAccuracy: 0.3).csvLine })
            .joined(separator: "\n").utf8 + [10])
        try expectCleanFailures(mangled(evaluations, flips: 1000, seed: 2), name: "evaluations.csv") { _ = try EvaluationRow.read($0) }
    }

    @Test func summaries() throws {
        let summary = TrialSummary(id: "adam-1", status: .completed, steps: 300, seconds: 9.5, testAccuracy: 0.38, trainAccuracy: 0.4,
                                   finalLoss: 1.7, activations: ["conv1": ActivationStatistics(mean: 0.07, variance: 0.01)],
                                   parameters: 3_274_634, settings: ["optimizer.name": "adam"], kernels: .automatic, threads: 2,
                                   confusion: [[1, 2], [3, 4]])
        let good = try TrialSummary.encoder.encode(summary)
        try expectCleanFailures(mangled(good, flips: 2000, seed: 3), name: "summary.json") { _ = try TrialSummary.read($0) }
    }

    @Test func experimentFiles() throws {
        let good = Data(smallExperiment.utf8)
        try expectCleanFailures(mangled(good, flips: 1500, seed: 4), name: "small.yaml") { url in
            _ = try Experiment.load(path: url.path)
        }
    }
}
