import Foundation
import GRDB
@_spi(FaultInjection) import LoupeCore

/// The run store: an SQLite index (GRDB) of every trial of an experiment folder and its metrics,
/// for `loupe runs` to list, filter and compare. The files in the trial folders are the record;
/// the store is only an index of them, rebuilt whole (`rebuild`) by the one process that reads or
/// joins a results folder (`loupe runs`, `loupe report`, `loupe merge`, the end of a whole `loupe
/// run`), never written by the processes that run trials: SQLite's locks are not to be trusted
/// over a shared file system, and many array tasks may share one folder.
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
                try insert(experiment: experiment, summary: summary, metrics: metrics, json: json, in: db)
                // Tests: every row written, not committed (whatever the stage).
                if let crash { throw AtomicFile.InjectedCrash(stage: crash, url: url) }
            }
        } catch let crash as AtomicFile.InjectedCrash {
            throw crash
        } catch {
            throw LoupeError.file(path: url.path, message: "cannot record trial \(summary.id) (\(error))")
        }
    }

    /// Rebuilds `layout`'s index from its trial folders: every folder with a readable
    /// `summary.json` (and its `metrics.csv`, unless a running trial is writing its last row), a
    /// folder without one (a trial that has just started) left out. The new database is written beside the old under a temporary name and
    /// renamed over it, so a reader sees the old index or the new one, and two processes
    /// rebuilding at once leave one whole index. The experiment's name is `experiment.yaml`'s
    /// `name:`, else the folder's name.
    @discardableResult
    public static func rebuild(_ layout: ExperimentLayout) throws -> RunStore {
        var name = layout.root.lastPathComponent
        if let text = try? String(contentsOf: layout.experimentFile, encoding: .utf8),
           let tree = try? ConfigNode.parse(yaml: text, file: layout.experimentFile.path),
           case let .scalar(given, _)? = tree.value(at: "name") {
            name = given
        }
        var records: [(TrialSummary, [MetricRow])] = []
        for id in try layout.trialIDs() {
            let trial = layout.trial(id)
            guard FileManager.default.fileExists(atPath: trial.summary.path) else { continue }
            let summary = try TrialSummary.read(trial.summary)
            var metrics: [MetricRow] = []
            if FileManager.default.fileExists(atPath: trial.metrics.path) {
                do { metrics = try MetricRow.read(trial.metrics) } catch {
                    // A running trial may be appending a row right now: its rows come when it ends.
                    guard summary.status == .running || summary.status == .interrupted else { throw error }
                }
            }
            records.append((summary, metrics))
        }
        let temporary = layout.root.appendingPathComponent(".\(layout.store.lastPathComponent).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp")
        do {
            let store = try RunStore(url: temporary)
            try store.queue.write { db in
                for (summary, metrics) in records { try store.insert(experiment: name, summary: summary, metrics: metrics, in: db) }
            }
            try store.queue.close()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? LoupeError { throw error }
            throw LoupeError.file(path: layout.store.path, message: "cannot be rebuilt (\(error))")
        }
        guard rename(temporary.path, layout.store.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw LoupeError.file(path: layout.store.path, message: "cannot be replaced (\(reason))")
        }
        return try RunStore(url: layout.store)
    }

    func insert(experiment: String, summary: TrialSummary, metrics: [MetricRow], json: String? = nil, in db: Database) throws {
        let json = try json ?? String(decoding: TrialSummary.encoder.encode(summary), as: UTF8.self)
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
