/// A point inside a registry change where a crash can be simulated, for crash-safety tests:
/// with ``RegistryEditor/simulatedCrash`` set, the process ends at once there (`_exit`, no
/// clean-up, as `kill -9` would), and the next command must find the old or the new state.
///
/// Tests run a change in a separate process that ends there (`Tests/RegistryCrashHarness`,
/// points `staged`, `journal`, `op:N`, `applied`); `divseg-registry` itself has no such hook.
///
/// ```swift
/// var editor = RegistryEditor(directory: dir, backbone: identity, retrainer: retrainer)
/// editor.simulatedCrash = CrashPoint(rawValue: "op:2")
/// ```
@_spi(Testing)
public enum CrashPoint: Sendable, Equatable, RawRepresentable {
    /// Everything is staged (bundle copy, new segmenter, ledger); nothing is committed.
    case staged
    /// The journal is on disk; no rename has happened.
    case journal
    /// After the first `n` operations of the journal (1-based).
    case operation(Int)
    /// Every operation is done; the journal is not yet removed.
    case applied

    public init?(rawValue: String) {
        switch rawValue {
        case "staged": self = .staged
        case "journal": self = .journal
        case "applied": self = .applied
        default:
            guard rawValue.hasPrefix("op:"), let n = Int(rawValue.dropFirst(3)), n >= 1 else { return nil }
            self = .operation(n)
        }
    }

    public var rawValue: String {
        switch self {
        case .staged: "staged"
        case .journal: "journal"
        case .operation(let n): "op:\(n)"
        case .applied: "applied"
        }
    }
}
