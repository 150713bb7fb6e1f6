import Foundation

/// A request to stop training early (Ctrl-C, or the SIGTERM a scheduler sends before it kills a
/// task): trainers finish the step they are in, write a checkpoint, and end their trial as
/// `interrupted`; no new trial starts. `loupe run` makes one from SIGINT and SIGTERM; tests and
/// library users call `request` themselves.
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var signalNumber: Int32?

    public init() {}

    /// Asks every trainer watching this request to stop after its current step; `signal` is
    /// the signal that asked (SIGINT 2, SIGTERM 15), or 0 for a request from code.
    public func request(signal: Int32 = 0) {
        lock.withLock { if signalNumber == nil { signalNumber = signal } }
    }

    /// Whether a stop was requested.
    public var isRequested: Bool { lock.withLock { signalNumber != nil } }

    /// The signal of the first request, if one came.
    public var signal: Int32? { lock.withLock { signalNumber } }
}
