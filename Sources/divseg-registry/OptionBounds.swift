import ArgumentParser
import DivSegCore

/// Refuses an option value outside the range the library accepts for its setting, naming
/// the option, the value, the bound and what to pass instead. The range always comes from
/// the library type the option configures, so the bound is stated once.
func requireOption<Bound: FixedWidthInteger>(_ option: String, _ value: Bound, in range: ClosedRange<Bound>,
                                             _ meaning: String) throws {
    guard !range.contains(value) else { return }
    throw ValidationError("--\(option) is \(value) but must be \(range.requirementText) (\(meaning)).")
}

/// As above, for floating-point options; NaN and infinities outside the range are refused.
func requireOption<Bound: BinaryFloatingPoint>(_ option: String, _ value: Bound, in range: ClosedRange<Bound>,
                                               _ meaning: String) throws {
    guard !range.contains(value) else { return }
    throw ValidationError("--\(option) is \(value) but must be \(range.requirementText) (\(meaning)).")
}
