import Synchronization

/// A request to stop a long loop at its next check point, e.g. an evaluation between two
/// images when the user presses Ctrl-C. One side (a signal handler, another task) calls
/// ``cancel(reason:)``; the loop asks ``isCancelled`` where stopping leaves a consistent
/// result. The flag is an atomic, so the token is shared across threads without a lock and
/// without any global state: whoever starts the work makes a token and hands it in.
///
/// ```swift
/// let token = CancellationToken()
/// // on another thread: token.cancel(reason: .interrupt)
/// for image in images {
///     if token.isCancelled { break }
///     process(image)
/// }
/// ```
public final class CancellationToken: Sendable {
    /// Why the work was stopped (the exit status a command uses follows from it).
    public enum Reason: Int, Sendable, Equatable {
        /// SIGINT (Ctrl-C): exit status 130 by convention (128 + 2).
        case interrupt = 2
        /// SIGTERM (e.g. `kill`, a scheduler's time limit): exit status 143 (128 + 15).
        case terminate = 15
        /// Any other request (a library caller that gives up).
        case requested = 0

        /// The conventional exit status of a command stopped for this reason.
        public var exitStatus: Int32 { self == .requested ? 1 : Int32(128 + rawValue) }
    }

    /// 0: not cancelled; else 1 + the reason's raw value (the first reason wins).
    private let state = Atomic<Int>(0)

    public init() {}

    /// Whether ``cancel(reason:)`` was called.
    public var isCancelled: Bool { state.load(ordering: .acquiring) != 0 }

    /// The reason given by the first ``cancel(reason:)``, or nil while not cancelled.
    public var reason: Reason? {
        let value = state.load(ordering: .acquiring)
        return value == 0 ? nil : Reason(rawValue: value - 1)
    }

    /// Asks the work to stop at its next check point. Returns true for the first call and
    /// false when the token was already cancelled (a second Ctrl-C, for instance); the first
    /// reason is kept.
    @discardableResult
    public func cancel(reason: Reason = .requested) -> Bool {
        state.compareExchange(expected: 0, desired: reason.rawValue + 1, ordering: .acquiringAndReleasing).exchanged
    }
}
