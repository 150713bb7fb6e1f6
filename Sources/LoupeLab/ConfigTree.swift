import Foundation
import LoupeCore
import Yams

/// Where a setting came from, for error messages: a line of the experiment file, or `--set`.
public struct ConfigSource: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public init(file: String, line: Int?) {
        self.file = file
        self.line = line
    }
    public var description: String { line.map { "\(file):\($0)" } ?? file }
}

/// An experiment file as a tree whose every node remembers its source, so validation errors can
/// name the key and its line. Built from YAML (Yams) and edited by `--set key=value` overrides
/// and sweep values.
public indirect enum ConfigNode: Sendable, Equatable {
    case scalar(String, ConfigSource)
    case sequence([ConfigNode], ConfigSource)
    /// Keys in file order.
    case mapping([(key: String, value: ConfigNode)], ConfigSource)

    public static func == (a: ConfigNode, b: ConfigNode) -> Bool {
        switch (a, b) {
        case let (.scalar(x, _), .scalar(y, _)): return x == y
        case let (.sequence(x, _), .sequence(y, _)): return x == y
        case let (.mapping(x, _), .mapping(y, _)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The same node, attributed to `source`.
    func located(at source: ConfigSource) -> ConfigNode {
        switch self {
        case let .scalar(text, _): return .scalar(text, source)
        case let .sequence(items, _): return .sequence(items, source)
        case let .mapping(pairs, _): return .mapping(pairs, source)
        }
    }

    public var source: ConfigSource {
        switch self {
        case let .scalar(_, s), let .sequence(_, s), let .mapping(_, s): return s
        }
    }

    /// Parses YAML text; `file` names it in errors.
    public static func parse(yaml text: String, file: String) throws -> ConfigNode {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw LoupeError.config(key: file, message: "is not valid YAML: \(error)")
        }
        guard let node else { return .mapping([], ConfigSource(file: file, line: 1)) }
        return try convert(node, file: file)
    }

    private static func convert(_ node: Node, file: String) throws -> ConfigNode {
        let source = ConfigSource(file: file, line: node.mark?.line)
        switch node {
        case let .scalar(scalar):
            return .scalar(scalar.string, source)
        case let .sequence(sequence):
            return .sequence(try sequence.map { try convert($0, file: file) }, source)
        case let .mapping(mapping):
            var pairs: [(key: String, value: ConfigNode)] = []
            for (key, value) in mapping {
                guard let name = key.string else {
                    throw LoupeError.config(key: "\(file):\(key.mark?.line ?? 0)", message: "mapping keys must be plain strings")
                }
                if pairs.contains(where: { $0.key == name }) {
                    throw LoupeError.config(key: name, message: "appears twice (\(file):\(key.mark?.line ?? 0))")
                }
                // A block value starts on the line after its key: errors point at the key.
                pairs.append((name, try convert(value, file: file).located(at: ConfigSource(file: file, line: key.mark?.line))))
            }
            return .mapping(pairs, source)
        case .alias:
            throw LoupeError.config(key: "\(source)", message: "YAML aliases are not supported")
        }
    }

    /// The node at a dotted path (`optimizer.lr`), if present.
    public func value(at path: String) -> ConfigNode? {
        var node = self
        for part in path.split(separator: ".") {
            guard case let .mapping(pairs, _) = node, let next = pairs.first(where: { $0.key == part })?.value else { return nil }
            node = next
        }
        return node
    }

    /// This tree with `value` at the dotted `path`, creating mappings on the way. Under `sweep`,
    /// the rest of the path is one key: sweep axes are named by dotted paths (`sweep.optimizer.lr`).
    public func setting(_ path: String, to value: ConfigNode) -> ConfigNode {
        var parts = path.split(separator: ".").map(String.init)
        if parts.count > 2 && parts[0] == "sweep" { parts = ["sweep", parts.dropFirst().joined(separator: ".")] }
        return setting(parts[...], value)
    }

    private func setting(_ parts: ArraySlice<String>, _ value: ConfigNode) -> ConfigNode {
        guard let first = parts.first else { return value }
        var pairs: [(key: String, value: ConfigNode)] = []
        var source = value.source
        if case let .mapping(existing, s) = self {
            pairs = existing
            source = s
        }
        if let index = pairs.firstIndex(where: { $0.key == first }) {
            pairs[index].value = pairs[index].value.setting(parts.dropFirst(), value)
        } else {
            pairs.append((first, ConfigNode.mapping([], value.source).setting(parts.dropFirst(), value)))
        }
        return .mapping(pairs, source)
    }

    /// The tree as YAML text (scalars quoted when YAML would read them as another type).
    public func yaml(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent)
        switch self {
        case let .scalar(text, _): return Self.quoted(text)
        case let .sequence(items, _):
            if items.allSatisfy({ if case .scalar = $0 { return true } else { return false } }) {
                return "[" + items.map { $0.yaml() }.joined(separator: ", ") + "]"
            }
            return items.map { "\n\(pad)- " + $0.yaml(indent: indent + 1).trimmingCharacters(in: .whitespacesAndNewlines) }.joined()
        case let .mapping(pairs, _):
            if pairs.isEmpty { return "{}" }
            return pairs.map { key, value -> String in
                switch value {
                case .scalar: return "\n\(pad)\(key): \(value.yaml())"
                case .sequence(let items, _) where items.allSatisfy({ if case .scalar = $0 { return true } else { return false } }):
                    return "\n\(pad)\(key): \(value.yaml())"
                case .mapping(let inner, _) where inner.isEmpty:
                    return "\n\(pad)\(key): {}"
                default: return "\n\(pad)\(key):" + value.yaml(indent: indent + 1)
                }
            }.joined()
        }
    }

    static func quoted(_ text: String) -> String {
        let plain = text.range(of: #"^[A-Za-z0-9_.+\-/]+$"#, options: .regularExpression) != nil
        return plain && !text.isEmpty ? text : "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
