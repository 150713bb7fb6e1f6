import LoupeCore

/// `reference:` in an experiment file: published results to compare with, each the settings it
/// was measured with and its test accuracy:
///
///     reference:
///       - {optimizer.name: adam, optimizer.lr: 1.0e-3, test_accuracy: 0.612}
///       - {optimizer.name: sgd, optimizer.lr: 0.1, test_accuracy: 0.574, source: "EXPERIMENTS.md"}
///
/// The report puts each beside the mean ± spread of the seed group whose settings match (numbers
/// compare as numbers), with the difference in units of the seeds' standard deviation.
public struct ReferenceResult: Sendable, Equatable {
    public var settings: [String: String]
    public var testAccuracy: Double
    public var source: String?

    /// The entries of `node` (the `reference:` value); throws naming the entry at fault.
    public static func read(_ node: ConfigNode?) throws -> [ReferenceResult] {
        guard let node else { return [] }
        guard case let .sequence(items, _) = node else {
            throw LoupeError.config(key: "reference", message: "must be a list of {setting: value, …, test_accuracy: number} (\(node.source))")
        }
        return try items.enumerated().map { index, item in
            guard case let .mapping(pairs, source) = item else {
                throw LoupeError.config(key: "reference.\(index)", message: "must map settings to values and give test_accuracy (\(item.source))")
            }
            var settings: [String: String] = [:], accuracy: Double?, origin: String?
            for (key, value) in pairs {
                guard case let .scalar(text, _) = value else {
                    throw LoupeError.config(key: "reference.\(index).\(key)", message: "must be a single value (\(value.source))")
                }
                switch key {
                case "test_accuracy":
                    guard let number = Double(text), (0...1).contains(number) else {
                        throw LoupeError.config(key: "reference.\(index).test_accuracy", message: "must be a number between 0 and 1, got '\(text)' (\(value.source))")
                    }
                    accuracy = number
                case "source": origin = text
                default: settings[key] = text
                }
            }
            guard let accuracy else { throw LoupeError.config(key: "reference.\(index)", message: "lacks test_accuracy (\(source))") }
            return ReferenceResult(settings: settings, testAccuracy: accuracy, source: origin)
        }
    }

    /// Whether a group with `settings` is the one this reference was measured with.
    public func matches(_ settings: [String: String]) -> Bool {
        self.settings.allSatisfy { key, value in
            guard let mine = settings[key] else { return false }
            if let a = Double(mine), let b = Double(value) { return a == b }
            return mine == value
        }
    }
}
