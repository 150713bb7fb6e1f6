import Foundation
import GRDB
@_spi(FaultInjection) import LoupeCore

/// The run store: an SQLite index (GRDB) of every trial of an experiment folder and its metrics,
/// for `loupe runs` to list, filter and compare. The files in the trial folders stay the record;
/// the store is rebuilt from them whenever a trial finishes.
public final class RunStore: Sendable {
    let queue: DatabaseQueue
    public let url: URL

    /// A trial as the store keeps it.
    public struct Row: Sendable, Equatable {
        public var experiment: String
        public var summary: TrialSummary
    }

    public init(url: URL) throws {
        self.url = url
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            queue = try DatabaseQueue(path: url.path)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.create(table: "trial") { t in
                    t.primaryKey("id", .text)
                    t.column("experiment", .text).notNull()
                    t.column("status", .text).notNull()
                    t.column("steps", .integer).notNull()
                    t.column("seconds", .double).notNull()
                    t.column("test_accuracy", .double)
                    t.column("train_accuracy", .double)
                    t.column("final_loss", .double)
                    t.column("summary", .text).notNull()
                }
                try db.create(table: "metric") { t in
                    t.column("trial_id", .text).notNull().references("trial", onDelete: .cascade)
                    t.column("step", .integer).notNull()
                    t.column("loss", .double).notNull()
                    t.column("accuracy", .double).notNull()
                    t.column("learning_rate", .double).notNull()
                    t.column("seconds", .double).notNull()
                    t.primaryKey(["trial_id", "step"])
                }
            }
            try migrator.migrate(queue)
        } catch let error as LoupeError {
            throw error
        } catch {
            throw LoupeError.file(path: url.path, message: "cannot be opened as a run store (\(error))")
        }
    }

    /// Records (or replaces) a trial's summary and metrics, in one transaction: a crash before it
    /// commits leaves the previous record (SQLite's journal rolls it back on the next open).
    public func record(experiment: String, summary: TrialSummary, metrics: [MetricRow]) throws {
        let json = String(decoding: try TrialSummary.encoder.encode(summary), as: UTF8.self)
        let crash = AtomicFile.faultInjection.get()?.stage(url)
        do {
            try queue.write { db in
                try db.execute(sql: "DELETE FROM metric WHERE trial_id = ?", arguments: [summary.id])
                try db.execute(sql: """
                    INSERT OR REPLACE INTO trial (id, experiment, status, steps, seconds, test_accuracy, train_accuracy, final_loss, summary)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [summary.id, experiment, summary.status.rawValue, summary.steps, summary.seconds,
                                     summary.testAccuracy, summary.trainAccuracy, summary.finalLoss.flatMap { $0.isFinite ? $0 : nil }, json])
                for row in metrics {
                    try db.execute(sql: "INSERT OR REPLACE INTO metric VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: [summary.id, row.step, row.loss.isFinite ? row.loss : nil, row.accuracy, row.learningRate, row.seconds])
                }
                // Tests: every row written, not committed (whatever the stage).
                if let crash { throw AtomicFile.InjectedCrash(stage: crash, url: url) }
            }
        } catch let crash as AtomicFile.InjectedCrash {
            throw crash
        } catch {
            throw LoupeError.file(path: url.path, message: "cannot record trial \(summary.id) (\(error))")
        }
    }

    /// Every trial, optionally only those whose settings (or status) match every `filters` entry.
    public func trials(matching filters: [String: String] = [:]) throws -> [Row] {
        let rows = try queue.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT experiment, summary FROM trial ORDER BY id")
        }
        return try rows.compactMap { row -> Row? in
            let text: String = row["summary"]
            let summary = try TrialSummary.decoder.decode(TrialSummary.self, from: Data(text.utf8))
            for (key, value) in filters {
                let actual = key == "status" ? summary.status.rawValue : (key == "id" ? summary.id : summary.settings[key])
                if actual != value { return nil }
            }
            return Row(experiment: row["experiment"], summary: summary)
        }
    }

    /// A trial's metrics in step order.
    public func metrics(of id: String) throws -> [MetricRow] {
        try queue.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT * FROM metric WHERE trial_id = ? ORDER BY step", arguments: [id]).map {
                MetricRow(step: $0["step"], loss: ($0["loss"] as Double?) ?? .nan, accuracy: $0["accuracy"],
                          learningRate: $0["learning_rate"], seconds: $0["seconds"])
            }
        }
    }
}
