import Foundation
import LoupeCore

/// One trial's TensorBoard event file, shared by `TensorBoardSink` (scalars, HParams session)
/// and `TensorBoardHook` (histograms, images, checkpoint marks). Each session of a trial writes
/// a new file, `events.out.tfevents.<seconds>.<host>.<pid>.<n>`, in the trial's folder.
///
/// Flushing: after each evaluation, each checkpoint and the trial's end, and after any step or
/// record two seconds or more after the last flush, so TensorBoard follows a live run. Records
/// reach the file whole (`EventFileWriter`).
///
/// Resuming (`--resume` from the checkpoint at step c): the rows logged after that checkpoint
/// and before a kill are logged again by the resumed trial, so copying the old file whole would
/// show them twice, and no rule on steps alone can tell them apart (the evaluation at c comes
/// before the checkpoint at c, the row of step c after it). So the hook writes a mark,
/// `SessionLog { status: CHECKPOINT }` at the checkpoint's step, right after each checkpoint,
/// and the new session's file starts with the previous session's records up to its mark at c.
/// If that mark is missing (killed between the checkpoint and the mark, or files written before
/// marks existed), the records up to the last earlier mark are kept, the rows and evaluations
/// between it and c are written again from the trial's CSV history, and the histograms and
/// images of steps up to c are kept from the file. The previous files are then removed. The new file is complete before it takes
/// its name, so a kill during the copy leaves the old files as they were.
public final class TensorBoardLog {
    public let layout: TrialLayout
    let hparams: HParamsExperiment?
    let warn: (String) -> Void
    private var writer: EventFileWriter?
    private var lastFlush = ContinuousClock.now
    private var warned = false
    static let flushInterval: Duration = .seconds(2)

    /// `hparams`: the experiment's swept settings, for the trial's HParams session (nil: none).
    /// Write errors go to `warn`, once: TensorBoard's copy of the metrics is not their record.
    public init(layout: TrialLayout, hparams: HParamsExperiment?, warn: @escaping (String) -> Void) {
        self.layout = layout
        self.hparams = hparams
        self.warn = warn
    }

    /// The event files in the trial's folder, by name.
    public static func eventFiles(in folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter(EventFileWriter.isEventFile).sorted().map { folder.appendingPathComponent($0) }
    }

    /// Opens this session's file: the file version, the HParams session start, and when the
    /// trial continues at `step` > 0, what earlier sessions wrote before that checkpoint.
    func open(_ trial: Trial, at step: Int, history: TrialHistory) {
        record {
            let now = Date().timeIntervalSince1970
            let old = Self.eventFiles(in: layout.root)
            var carried: [[UInt8]] = []
            if step > 0 { carried = try Self.carriedRecords(from: old, checkpoint: step, history: history) }
            let name = EventFileWriter.fileName()
            let final = layout.root.appendingPathComponent(name)
            let temporary = layout.root.appendingPathComponent(".\(name).tmp")
            let writer = try EventFileWriter(creating: temporary)
            writer.append(TensorBoardEvent.fileVersion(wallTime: now))
            if let hparams { writer.append(TensorBoardEvent.summary(wallTime: now, step: 0, [hparams.sessionStartValue(trial, startedAt: now)])) }
            for record in carried { writer.append(record) }
            try writer.flush()
            try writer.rename(to: final)
            for url in old { try? FileManager.default.removeItem(at: url) }
            self.writer = writer
            lastFlush = .now
        }
    }

    /// Adds one summary event at `step`.
    func write(step: Int, _ values: [SummaryValue], flush: Bool = false) {
        guard let writer, !values.isEmpty else { return }
        writer.append(TensorBoardEvent.summary(wallTime: Date().timeIntervalSince1970, step: step, values))
        if flush { self.flush() } else { flushIfDue() }
    }

    /// Marks that the checkpoint at `step` was written (see the type's comment), and flushes.
    func markCheckpoint(step: Int) {
        guard let writer else { return }
        writer.append(TensorBoardEvent.checkpoint(wallTime: Date().timeIntervalSince1970, step: step, path: layout.checkpoint.lastPathComponent))
        flush()
    }

    /// Flushes when records have waited two seconds or more (called after every step, so a
    /// long interval between logged rows still reaches TensorBoard within seconds).
    func flushIfDue() {
        if ContinuousClock.now - lastFlush >= Self.flushInterval { flush() }
    }

    func flush() {
        guard let writer else { return }
        record { try writer.flush() }
        lastFlush = .now
    }

    private func record(_ body: () throws -> Void) {
        do { try body() } catch {
            writer = nil
            if !warned { warn("warning: TensorBoard events of \(layout.root.lastPathComponent) are no longer written: \(error)") }
            warned = true
        }
    }

    /// What the new session's file carries over from `files` when continuing from the
    /// checkpoint at `checkpoint`: the newest file's records (it holds every earlier session's)
    /// up to its mark at `checkpoint`, or up to the last earlier mark plus the history's rows and
    /// evaluations after it. The file version and HParams session records are written afresh.
    static func carriedRecords(from files: [URL], checkpoint: Int, history: TrialHistory) throws -> [[UInt8]] {
        var newest: (time: Double, records: [[UInt8]])?
        for url in files {
            let records = try EventFileReader(url: url).records
            guard let first = records.first, let event = try? EventSummary(record: first, path: url.path),
                  event.fileVersion != nil else { continue }
            if newest == nil || event.wallTime > newest!.time { newest = (event.wallTime, records) }
        }
        var kept: [[UInt8]] = [], pending: [[UInt8]] = []
        var mark = -1
        for record in newest?.records.dropFirst() ?? [] {
            guard let event = try? EventSummary(record: record, path: "event record") else { continue }
            if event.tags.contains(where: { $0.hasPrefix("_hparams_/") }) { continue }
            pending.append(record)
            if let checkpointStep = event.checkpointStep, checkpointStep <= checkpoint {
                kept += pending
                pending = []
                mark = checkpointStep
                if checkpointStep == checkpoint { return kept }
            }
        }
        // Rows of steps ≥ the mark were logged after it; evaluations at the mark's step before it.
        // Their scalars may not have reached the file (a kill between flushes), so they come from
        // the history. The hook's histograms and images are flushed as they are written, and
        // those of steps up to the checkpoint are never written again (the trial continues after
        // it), so they are kept from the file; later ones are written again.
        let now = Date().timeIntervalSince1970
        var after: [(step: Int, record: [UInt8])] = []
        for row in history.rows where row.step >= mark {
            after.append((row.step, TensorBoardEvent.summary(wallTime: now, step: row.step, TensorBoardSink.values(of: row))))
        }
        for evaluation in history.evaluations where evaluation.step > mark {
            after.append((evaluation.step, TensorBoardEvent.summary(wallTime: now, step: evaluation.step, TensorBoardSink.values(of: evaluation))))
        }
        for record in pending {
            guard let event = try? EventSummary(record: record, path: "event record"), event.isHookEvent,
                  event.step <= checkpoint else { continue }
            after.append((event.step, record))
        }
        // In step order (a stable sort: a step's row before its evaluation, as they were written).
        return kept + after.enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }.map(\.element.record)
    }
}

/// The parts of a serialized `Event` that resuming and the tests look at.
struct EventSummary {
    var wallTime = 0.0
    var step = 0
    var fileVersion: String?
    /// The step of a `SessionLog` CHECKPOINT mark.
    var checkpointStep: Int?
    var tags: [String] = []
    /// The `simple_value` scalars, by tag, in the event's order.
    var scalars: [(tag: String, value: Float)] = []

    /// Whether this is `TensorBoardHook`'s event: histograms or images, no scalar, no mark.
    var isHookEvent: Bool {
        !tags.isEmpty && scalars.isEmpty && checkpointStep == nil && fileVersion == nil && !tags.contains { $0.hasPrefix("_hparams_/") }
    }

    init(record: [UInt8], path: String) throws {
        do {
            var event = ProtoReader(record)
            var logStatus: UInt64?
            while let (field, value) = try event.next() {
                switch (field, value) {
                case let (1, .fixed64(bits)): wallTime = Double(bitPattern: bits)
                case let (2, .varint(v)): step = Int(truncatingIfNeeded: v)
                case let (3, .bytes(text)): fileVersion = String(decoding: text, as: UTF8.self)
                case let (5, .bytes(summary)):
                    var values = ProtoReader(summary)
                    while let (valueField, value) = try values.next() {
                        guard valueField == 1, case let .bytes(body) = value else { continue }
                        var fields = ProtoReader(body)
                        var tag: String?
                        while let (f, v) = try fields.next() {
                            if f == 1, case let .bytes(text) = v { tag = String(decoding: text, as: UTF8.self) }
                            if f == 2, case let .fixed32(bits) = v, let tag { scalars.append((tag, Float(bitPattern: bits))) }
                        }
                        if let tag { tags.append(tag) }
                    }
                case let (7, .bytes(log)):
                    var fields = ProtoReader(log)
                    logStatus = 0
                    while let (f, v) = try fields.next() { if f == 1, case let .varint(s) = v { logStatus = s } }
                default: break
                }
            }
            if logStatus == UInt64(TensorBoardEvent.SessionLogStatus.checkpoint) { checkpointStep = step }
        } catch let error as ProtoReader.Malformed {
            throw LoupeError.file(path: path, message: "holds an event that is not a valid Event message (\(error))")
        }
    }
}
