/// A setting outside what it may be: the one payload of every library error's
/// `invalidSetting` case, so that the message reads the same everywhere.
///
/// ```swift
/// let violation = SettingViolation(owner: "PointSampler", name: "pointsPerClass", value: "0",
///                                  requirement: (1...1000).requirementText)
/// print(violation)   // PointSampler.pointsPerClass is 0 but must be in 1...1000.
/// ```
public struct SettingViolation: Sendable, Equatable, CustomStringConvertible {
    /// The type whose property it is (`PointSampler`, `SegmenterTrainer`, …).
    public var owner: String
    /// The property's name.
    public var name: String
    /// The value given, as text.
    public var value: String
    /// What it must be ("in 1...1000", "positive and finite").
    public var requirement: String

    public init(owner: String, name: String, value: String, requirement: String) {
        self.owner = owner
        self.name = name
        self.value = value
        self.requirement = requirement
    }

    public var description: String { "\(owner).\(name) is \(value) but must be \(requirement)." }
}

/// An error type with an `invalidSetting(SettingViolation)` case: gets the
/// `invalidSetting(name:value:requirement:)` constructor that names the owning type.
///
/// ```swift
/// extension SamplingError: SettingError { public static let settingOwner = "PointSampler" }
/// throw SamplingError.invalidSetting(name: "pointsPerClass", value: "0", requirement: "in 1...1000")
/// ```
public protocol SettingError: Error {
    /// The type whose settings the error reports on.
    static var settingOwner: String { get }
    /// The enum case that carries the violation.
    static func invalidSetting(_ violation: SettingViolation) -> Self
}

extension SettingError {
    /// The error for `settingOwner.name` being `value` instead of `requirement`.
    public static func invalidSetting(name: String, value: String, requirement: String) -> Self {
        .invalidSetting(SettingViolation(owner: settingOwner, name: name, value: value, requirement: requirement))
    }
}
