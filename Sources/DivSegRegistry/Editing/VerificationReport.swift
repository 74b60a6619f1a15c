/// The result of ``RegistryEditor/verify()``: problems make the registry unhealthy (bundles
/// refused, a damaged ledger, a stale or missing segmenter); notes are informational.
///
/// ```swift
/// let report = try editor.verify()
/// if !report.isHealthy { report.problems.forEach { print("problem:", $0) } }
/// ```
public struct VerificationReport: Sendable {
    /// The registry as opened (an interrupted change was completed first).
    public var registry: Registry
    /// Healthy bundles that were checked in full (manifest, hash, backbone, weights, corpus).
    public var checkedBundles: Int
    public var problems: [String]
    public var notes: [String]
    public var segmenter: SegmenterStatus

    /// No problems.
    public var isHealthy: Bool { problems.isEmpty }

    /// Lines for people.
    public var summary: String {
        var lines = ["registry \(registry.directory): \(checkedBundles) class\(checkedBundles == 1 ? "" : "es") ok, segmenter \(segmenter)"]
        lines += problems.map { "problem: \($0)" }
        lines += notes.map { "note: \($0)" }
        lines.append(isHealthy ? "verify: ok" : "verify: \(problems.count) problem\(problems.count == 1 ? "" : "s")")
        return lines.joined(separator: "\n")
    }
}
