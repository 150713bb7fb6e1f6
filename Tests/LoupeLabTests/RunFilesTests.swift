import Foundation
import LoupeCore
import LoupeLab
import Testing

@Suite struct RunFilesTests {
    /// A resumed trial's earlier rows come back from metrics.csv: they must be the very values
    /// the trainer made (a Float loss and learning rate widened to Double, a Double accuracy), or
    /// the run index and the summary's train accuracy differ from an uninterrupted run's.
    @Test func metricRowsReadBackAsTheTrainerMadeThem() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let loss: Float = 2.3025851, learningRate: Float = 1.0e-3
        let rows = [MetricRow(step: 0, loss: Double(loss), accuracy: 1.0 / 3.0, learningRate: Double(learningRate), seconds: 0.25),
                    MetricRow(step: 10, loss: Double(Float.nan), accuracy: 0.14, learningRate: Double(Float(0.1)), seconds: 1.5)]
        let url = folder.appendingPathComponent("metrics.csv")
        try Data(([MetricRow.header] + rows.map(\.csvLine)).joined(separator: "\n").appending("\n").utf8).write(to: url)
        let read = try MetricRow.read(url)
        #expect(read.map(\.step) == [0, 10] && read.map(\.seconds) == [0.25, 1.5])
        #expect(read[0].loss.bitPattern == rows[0].loss.bitPattern && read[0].learningRate.bitPattern == rows[0].learningRate.bitPattern)
        #expect(read[0].accuracy.bitPattern == rows[0].accuracy.bitPattern, "\(read[0].accuracy) vs \(rows[0].accuracy)")
        #expect(read[1].loss.isNaN && read[1].accuracy == 0.14 && read[1].learningRate.bitPattern == Double(Float(0.1)).bitPattern)
    }
}
