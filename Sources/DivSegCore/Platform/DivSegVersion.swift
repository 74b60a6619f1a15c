/// The version of divseg, recorded in the bundles it writes and printed by `--version`.
public enum DivSegVersion {
    /// Semantic version of the package.
    public static let number = "0.1.0"
    /// "divseg 0.1.0": the tool name and version, as bundles' `toolVersion` records it.
    public static let tool = "divseg \(number)"
}
