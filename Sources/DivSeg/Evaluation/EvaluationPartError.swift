import DivSegCore

/// Why evaluation parts (``EvaluationPart``) could not be read or merged.
///
/// ```swift
/// do { _ = try EvaluationPart.merge(parts) } catch { print(error) }
/// // The evaluation parts do not cover every shard: 3 of 4 is missing; …
/// ```
public enum EvaluationPartError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No part was given.
    case noParts
    /// A file that cannot be read or is not a part file.
    case unreadable(path: String, reason: String)
    /// Two parts from different evaluations (another dataset, split, segmenter, shard count, …).
    case mismatch(path: String, what: String, value: String, otherPath: String, otherValue: String)
    /// One shard given twice.
    case duplicateShard(Shard, path: String, otherPath: String)
    /// Shards (1-based) of the count that no part covers.
    case missingShards([Int], count: Int)

    public var description: String {
        switch self {
        case .noParts:
            return "No evaluation parts to merge; pass the files written by `evaluate --shard i/n --json-out FILE`."
        case let .unreadable(path, reason):
            return "The evaluation part '\(path)' cannot be used: \(reason)."
        case let .mismatch(path, what, value, otherPath, otherValue):
            return "The evaluation parts '\(otherPath)' and '\(path)' come from different evaluations: \(what) is "
                + "'\(otherValue)' in one and '\(value)' in the other. Merge only the shards of one run."
        case let .duplicateShard(shard, path, otherPath):
            return "Shard \(shard) is given twice ('\(otherPath)' and '\(path)'); pass each shard's part once."
        case let .missingShards(missing, count):
            let shown = missing.prefix(10).map { "\($0)/\(count)" }.joined(separator: ", ")
            return "The evaluation parts do not cover every shard: \(shown)\(missing.count > 10 ? " and \(missing.count - 10) more" : "") "
                + "\(missing.count == 1 ? "is" : "are") missing. Run `evaluate --shard i/\(count) --json-out FILE` for \(missing.count == 1 ? "it" : "them") and merge all \(count)."
        }
    }
}
