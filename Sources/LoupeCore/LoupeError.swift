/// An error a user can cause: a wrong shape, a bad file, a bad setting.
/// Every message names what is at fault (the op and its shapes, the file, the key or the flag).
public enum LoupeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An op was given tensors whose shapes do not fit together.
    case shapeMismatch(op: String, message: String)
    /// An argument is outside what the op or function accepts.
    case invalidArgument(name: String, message: String)
    /// A file could not be read, written or understood.
    case file(path: String, message: String)
    /// A configuration key has a bad value.
    case config(key: String, message: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, message): return "\(op): \(message)"
        case let .invalidArgument(name, message): return "\(name): \(message)"
        case let .file(path, message): return "\(path): \(message)"
        case let .config(key, message): return "\(key): \(message)"
        }
    }
}

/// Formats a shape as `[3, 4]` for error messages.
@inlinable
func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
