import Foundation

/// What TensorBoard's HParams tab shows of an experiment: each swept setting with its values
/// (the experiment summary, written once in the results folder) and, per trial, its values, its
/// group and its status (the session start and end, written in the trial's folder). The metrics
/// are scalars the sink writes anyway; the tab shows the last value of each.
///
/// `train.seed` is left out of the hparams: TensorBoard groups sessions by `group_name` (here
/// the trial's settings without its seed) and copies the group's hparams from its first
/// session, so a seed there would show one seed for a group of three. The seed stays visible in
/// each session's name, the trial id. Message layout: `plugins/hparams/plugin_data.proto` and
/// `api.proto` in tensorflow/tensorboard.
public struct HParamsExperiment: Sendable {
    /// A setting's value as TensorBoard types it.
    public enum Value: Sendable, Equatable {
        case number(Double)
        case bool(Bool)
        case string(String)
    }

    /// One swept setting: its dotted key and the values it takes, in sweep order.
    public struct Setting: Sendable, Equatable {
        public var key: String
        public var values: [Value]
        public init(key: String, values: [Value]) {
            self.key = key
            self.values = values
        }
    }

    public static let excludedKeys: Set<String> = ["train.seed"]
    static let tag = (experiment: "_hparams_/experiment", start: "_hparams_/session_start_info", end: "_hparams_/session_end_info")

    /// The metrics the HParams tab lists (scalar tags the TensorBoard sink writes).
    public static let metrics: [(tag: String, training: Bool)] = [("test_accuracy", false), ("loss", true), ("accuracy", true)]

    public var name: String
    public var settings: [Setting]

    public init(name: String, settings: [Setting]) {
        self.name = name
        self.settings = settings
    }

    /// Every setting some trial sweeps (seed excluded), typed once for the whole experiment: a
    /// key is a number when every value parses as one, a bool when every value is true/false.
    public init(_ experiment: Experiment) {
        name = experiment.name
        var order: [String] = [], texts: [String: [String]] = [:]
        for trial in experiment.trials {
            for (key, value) in trial.settings where !Self.excludedKeys.contains(key) {
                if texts[key] == nil { order.append(key) }
                if !(texts[key, default: []].contains(value)) { texts[key, default: []].append(value) }
            }
        }
        settings = order.map { key in
            Setting(key: key, values: Self.typed(texts[key]!))
        }
    }

    static func typed(_ texts: [String]) -> [Value] {
        if texts.allSatisfy({ Double($0)?.isFinite == true }) { return texts.map { .number(Double($0)!) } }
        if texts.allSatisfy({ ["true", "false"].contains($0) }) { return texts.map { .bool($0 == "true") } }
        return texts.map { .string($0) }
    }

    /// A trial's hparams, typed as the experiment types each key; a trial lacking a key (an
    /// `include:` entry that does not set it) leaves it out.
    public func values(of trial: Trial) -> [(key: String, value: Value)] {
        let given = trial.settingsDictionary
        return settings.compactMap { setting in
            guard let text = given[setting.key] else { return nil }
            let value = setting.values.first { Self.matches($0, text) } ?? .string(text)
            return (setting.key, value)
        }
    }

    /// The session group: the trial's settings without the seed, in sweep order.
    public static func groupName(of trial: Trial) -> String {
        let kept = trial.settings.filter { !excludedKeys.contains($0.key) }.map { "\($0.key)=\($0.value)" }
        return kept.isEmpty ? trial.id : kept.joined(separator: ", ")
    }

    private static func matches(_ value: Value, _ text: String) -> Bool {
        switch value {
        case let .number(n): return Double(text) == n
        case let .bool(b): return text == "\(b)"
        case let .string(s): return s == text
        }
    }

    /// The `_hparams_/experiment` summary value (HParamsPluginData, version 0).
    func experimentValue(createdAt time: Double) -> SummaryValue {
        var data = ProtoWriter()
        data.message(2) { experiment in                          // HParamsPluginData.experiment
            experiment.double(3, time)                           // time_created_secs
            for setting in settings {
                experiment.message(4) { info in                  // hparam_infos
                    info.string(1, setting.key)
                    info.int(4, Self.dataType(setting.values))   // type
                    info.message(5) { list in                    // domain_discrete: ListValue
                        for value in setting.values { list.message(1) { Self.encode(value, into: &$0) } }
                    }
                }
            }
            for metric in Self.metrics {
                experiment.message(5) { info in                  // metric_infos
                    info.message(1) { name in name.string(2, metric.tag) }   // MetricName { tag }
                    info.int(5, metric.training ? 1 : 2)         // dataset_type: TRAINING, VALIDATION
                }
            }
            experiment.string(6, name)
        }
        return .hparams(tag: Self.tag.experiment, content: data.bytes)
    }

    /// The `_hparams_/session_start_info` summary value of `trial`.
    func sessionStartValue(_ trial: Trial, startedAt time: Double) -> SummaryValue {
        Self.sessionStartValue(hparams: values(of: trial), groupName: Self.groupName(of: trial), startedAt: time)
    }

    static func sessionStartValue(hparams: [(key: String, value: Value)], groupName: String, startedAt time: Double) -> SummaryValue {
        var data = ProtoWriter()
        data.message(3) { start in                               // HParamsPluginData.session_start_info
            for (key, value) in hparams.sorted(by: { $0.key < $1.key }) {
                start.message(1) { entry in                      // map<string, Value> entry
                    entry.string(1, key)
                    entry.message(2) { encode(value, into: &$0) }
                }
            }
            start.string(4, groupName)                           // group_name
            start.double(5, time)                                // start_time_secs
        }
        return .hparams(tag: tag.start, content: data.bytes)
    }

    /// The `_hparams_/session_end_info` summary value: `Status` SUCCESS (1) or FAILURE (2).
    static func sessionEndValue(succeeded: Bool, endedAt time: Double) -> SummaryValue {
        var data = ProtoWriter()
        data.message(4) { end in                                 // HParamsPluginData.session_end_info
            end.int(1, succeeded ? 1 : 2)
            end.double(2, time)
        }
        return .hparams(tag: tag.end, content: data.bytes)
    }

    /// `google.protobuf.Value`: number_value 2, string_value 3, bool_value 4 (a oneof: always written).
    static func encode(_ value: Value, into message: inout ProtoWriter) {
        switch value {
        case let .number(n): message.double(2, n, evenIfDefault: true)
        case let .string(s): message.string(3, s, evenIfDefault: true)
        case let .bool(b): message.bool(4, b, evenIfDefault: true)
        }
    }

    /// `DataType`: STRING 1, BOOL 2, FLOAT64 3.
    static func dataType(_ values: [Value]) -> Int {
        switch values.first {
        case .number?: return 3
        case .bool?: return 2
        default: return 1
        }
    }
}
