/// Whether a registry's `segmenter.h5` fits its current class set.
///
/// ```swift
/// switch registry.segmenterStatus {
/// case .current, .notNeeded: break
/// default: print("run `divseg-registry retrain`")
/// }
/// ```
public enum SegmenterStatus: Sendable, Equatable, CustomStringConvertible {
    /// Trained for exactly these classes, label ids and localizers.
    case current
    /// Trained for another class set: `retrain` brings it up to date.
    case stale
    /// The registry has classes but no segmenter yet.
    case missing
    /// The file exists but cannot be read (the reason).
    case unreadable(String)
    /// No classes and no segmenter: nothing to segment with, nothing wrong.
    case notNeeded

    /// Whether segmenting with this registry works.
    public var isUsable: Bool { self == .current }

    public var description: String {
        switch self {
        case .current: "current"
        case .stale: "stale (run `divseg-registry retrain`; `segment --allow-stale` uses it as it is)"
        case .missing: "missing (run `divseg-registry retrain`)"
        case .unreadable(let reason): "unreadable: \(reason) (run `divseg-registry retrain`)"
        case .notNeeded: "none (no classes)"
        }
    }
}
