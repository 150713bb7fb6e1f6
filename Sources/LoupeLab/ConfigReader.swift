import LoupeCore
import Synchronization

/// Reads one mapping of a `ConfigNode` tree against the keys it allows, with typed getters whose
/// errors name the dotted key and its source line, and suggest the closest key for a typo. The
/// allowed keys are a `ConfigSchema` section's; each default a getter applies is reported to the
/// `ConfigReadLog` being recorded, if any.
struct ConfigReader {
    let path: String
    let node: ConfigNode
    let pairs: [(key: String, value: ConfigNode)]
    /// The `ConfigSchema` section this mapping follows; nil for `models:`, whose keys are names.
    let section: String?

    /// `node` must be a mapping whose keys are all in the schema's `section`.
    init(_ node: ConfigNode, path: String, section: String) throws {
        try self.init(node, path: path, allowed: ConfigSchema.keys(section), section: section)
    }

    /// `node` must be a mapping whose keys are all in `allowed`.
    init(_ node: ConfigNode, path: String, allowed: [String], section: String? = nil) throws {
        self.path = path
        self.node = node
        self.section = section
        guard case let .mapping(pairs, _) = node else {
            throw LoupeError.config(key: path.isEmpty ? "experiment" : path, message: "must be a mapping of keys to values (\(node.source))")
        }
        self.pairs = pairs
        for (key, value) in pairs where !allowed.contains(key) {
            let full = Self.join(path, key)
            var message = "unknown key (\(value.source))"
            if let suggestion = closestName(key, among: allowed) { message += "; did you mean '\(Self.join(path, suggestion))'?" }
            message += " Allowed here: \(allowed.joined(separator: ", "))"
            throw LoupeError.config(key: full, message: message)
        }
        if let log = ConfigReadLog.current, let section {
            for (key, _) in pairs { log.append(.given(section: section, path: path, key: key)) }
        }
    }

    /// An empty mapping read as `section` at `path`: every key takes its default.
    static func empty(at source: ConfigSource, path: String, section: String) -> ConfigReader {
        // An empty mapping has no key to refuse.
        try! ConfigReader(.mapping([], source), path: path, section: section)
    }

    /// Reports `value` (nil: none) as the default applied for the absent `key`.
    private func applied(_ key: String, _ value: String?) {
        guard let log = ConfigReadLog.current, let section else { return }
        log.append(.defaulted(section: section, path: path, key: key, value: value))
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func has(_ key: String) -> Bool { pairs.contains { $0.key == key } }
    func child(_ key: String) -> ConfigNode? { pairs.first { $0.key == key }?.value }
    func key(_ key: String) -> String { Self.join(path, key) }

    func fail(_ key: String, _ message: String) -> LoupeError {
        let source = child(key)?.source ?? node.source
        return .config(key: self.key(key), message: "\(message) (\(source))")
    }

    /// The value of `key`, or `value` when it is absent (reported as the default applied).
    func child(_ key: String, default value: ConfigNode) -> ConfigNode {
        if let given = child(key) { return given }
        applied(key, Experiment.text(of: value))
        return value
    }

    func scalar(_ key: String) throws -> String? {
        guard let value = child(key) else { return nil }
        guard case let .scalar(text, _) = value else { throw fail(key, "must be a single value, not a list or mapping") }
        return text
    }

    func string(_ key: String, default value: String? = nil, oneOf choices: [String]? = nil) throws -> String? {
        guard let text = try scalar(key) else {
            applied(key, value)
            return value
        }
        if let choices, !choices.contains(text) {
            var message = "must be one of \(choices.joined(separator: ", ")), got '\(text)'"
            if let suggestion = closestName(text, among: choices) { message += "; did you mean '\(suggestion)'?" }
            throw fail(key, message)
        }
        return text
    }

    func int(_ key: String, default value: Int? = nil, minimum: Int? = nil) throws -> Int? {
        guard let text = try scalar(key) else {
            applied(key, value.map { String($0) })
            return value
        }
        guard let number = Int(text.replacingOccurrences(of: "_", with: "")) else { throw fail(key, "must be an integer, got '\(text)'") }
        if let minimum, number < minimum { throw fail(key, "must be at least \(minimum), got \(number)") }
        return number
    }

    func float(_ key: String, default value: Float? = nil, minimum: Float? = nil, maximum: Float? = nil,
               exclusiveMinimum: Bool = false) throws -> Float? {
        guard let text = try scalar(key) else {
            applied(key, value.map { "\($0)" })
            return value
        }
        guard let number = Float(text), number.isFinite else { throw fail(key, "must be a number, got '\(text)'") }
        if let minimum, exclusiveMinimum ? number <= minimum : number < minimum {
            throw fail(key, "must be \(exclusiveMinimum ? "greater than" : "at least") \(minimum), got \(text)")
        }
        if let maximum, number > maximum { throw fail(key, "must be at most \(maximum), got \(text)") }
        return number
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let text = try scalar(key) else {
            applied(key, "\(value)")
            return value
        }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(key, "must be true or false, got '\(text)'")
        }
    }

    func list(_ key: String) throws -> [ConfigNode]? {
        guard let value = child(key) else {
            applied(key, nil)
            return nil
        }
        guard case let .sequence(items, _) = value else { throw fail(key, "must be a list") }
        return items
    }

    func stringList(_ key: String) throws -> [String]? {
        try list(key)?.map { item in
            guard case let .scalar(text, _) = item else { throw fail(key, "must be a list of names") }
            return text
        }
    }

    /// The list of names at `key`, or `value` when it is absent (reported as the default applied).
    func stringList(_ key: String, default value: [String]) throws -> [String] {
        guard has(key) else {
            applied(key, "[" + value.joined(separator: ", ") + "]")
            return value
        }
        return try stringList(key)!
    }

    /// The mapping at `key`, read as the schema's `section`; nil when absent.
    func reader(_ key: String, section: String) throws -> ConfigReader? {
        guard let value = child(key) else {
            applied(key, nil)
            return nil
        }
        return try ConfigReader(value, path: self.key(key), section: section)
    }
}

/// What the readers of an experiment file did with its keys while `recording` ran: each key a
/// mapping gave, and each default applied to an absent one. Tests hold these to `ConfigSchema`;
/// when nothing records, the readers only look up the task-local and go on.
@_spi(ConfigRecording)
public final class ConfigReadLog: Sendable {
    public enum Event: Sendable, Equatable {
        /// `path` (`model.layers.0`) gave `key`; its reader follows the schema's `section`.
        case given(section: String, path: String, key: String)
        /// `key` was absent at `path` and `value` was applied (nil: none; absence has a meaning).
        case defaulted(section: String, path: String, key: String, value: String?)
    }

    private let events = Mutex<[Event]>([])
    @TaskLocal static var current: ConfigReadLog?

    func append(_ event: Event) { events.withLock { $0.append(event) } }

    /// Runs `body`, returning its result and what the readers it ran reported, in order.
    public static func recording<T>(_ body: () throws -> T) rethrows -> (result: T, events: [Event]) {
        let log = ConfigReadLog()
        let result = try $current.withValue(log) { try body() }
        return (result, log.events.withLock { $0 })
    }
}
