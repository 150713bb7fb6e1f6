import LoupeCore

/// Reads one mapping of a `ConfigNode` tree against the keys it allows, with typed getters whose
/// errors name the dotted key and its source line, and suggest the closest key for a typo.
struct ConfigReader {
    let path: String
    let node: ConfigNode
    let pairs: [(key: String, value: ConfigNode)]

    /// `node` must be a mapping whose keys are all in `allowed`.
    init(_ node: ConfigNode, path: String, allowed: [String]) throws {
        self.path = path
        self.node = node
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
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func has(_ key: String) -> Bool { pairs.contains { $0.key == key } }
    func child(_ key: String) -> ConfigNode? { pairs.first { $0.key == key }?.value }
    func key(_ key: String) -> String { Self.join(path, key) }

    func fail(_ key: String, _ message: String) -> LoupeError {
        let source = child(key)?.source ?? node.source
        return .config(key: self.key(key), message: "\(message) (\(source))")
    }

    func scalar(_ key: String) throws -> String? {
        guard let value = child(key) else { return nil }
        guard case let .scalar(text, _) = value else { throw fail(key, "must be a single value, not a list or mapping") }
        return text
    }

    func string(_ key: String, default value: String? = nil, oneOf choices: [String]? = nil) throws -> String? {
        guard let text = try scalar(key) else { return value }
        if let choices, !choices.contains(text) {
            var message = "must be one of \(choices.joined(separator: ", ")), got '\(text)'"
            if let suggestion = closestName(text, among: choices) { message += "; did you mean '\(suggestion)'?" }
            throw fail(key, message)
        }
        return text
    }

    func int(_ key: String, default value: Int? = nil, minimum: Int? = nil) throws -> Int? {
        guard let text = try scalar(key) else { return value }
        guard let number = Int(text.replacingOccurrences(of: "_", with: "")) else { throw fail(key, "must be an integer, got '\(text)'") }
        if let minimum, number < minimum { throw fail(key, "must be at least \(minimum), got \(number)") }
        return number
    }

    func float(_ key: String, default value: Float? = nil, minimum: Float? = nil, maximum: Float? = nil,
               exclusiveMinimum: Bool = false) throws -> Float? {
        guard let text = try scalar(key) else { return value }
        guard let number = Float(text), number.isFinite else { throw fail(key, "must be a number, got '\(text)'") }
        if let minimum, exclusiveMinimum ? number <= minimum : number < minimum {
            throw fail(key, "must be \(exclusiveMinimum ? "greater than" : "at least") \(minimum), got \(text)")
        }
        if let maximum, number > maximum { throw fail(key, "must be at most \(maximum), got \(text)") }
        return number
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let text = try scalar(key) else { return value }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(key, "must be true or false, got '\(text)'")
        }
    }

    func list(_ key: String) throws -> [ConfigNode]? {
        guard let value = child(key) else { return nil }
        guard case let .sequence(items, _) = value else { throw fail(key, "must be a list") }
        return items
    }

    func stringList(_ key: String) throws -> [String]? {
        try list(key)?.map { item in
            guard case let .scalar(text, _) = item else { throw fail(key, "must be a list of names") }
            return text
        }
    }

    func reader(_ key: String, allowed: [String]) throws -> ConfigReader? {
        guard let value = child(key) else { return nil }
        return try ConfigReader(value, path: self.key(key), allowed: allowed)
    }
}
