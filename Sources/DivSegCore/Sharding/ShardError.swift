/// Why a shard (``Shard``) could not be used.
///
/// ```swift
/// do { _ = try Shard(parsing: "0/4") } catch { print(error) }
/// // The shard '0/4' is invalid: shards are numbered from 1 to the count (4); for the first shard write 1/4.
/// ```
public enum ShardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--shard` text (or an index/count pair) that is not a shard: the text and why.
    case invalid(String, reason: String)
    /// A cluster variable that is missing (`value` nil), not a number, or outside the array.
    case environment(variable: String, value: String?, reason: String)

    public var description: String {
        switch self {
        case .invalid(let text, let reason):
            return "The shard '\(text)' is invalid: \(reason)."
        case .environment(let variable, let value, let reason):
            let shown = value.map { "\(variable)=\($0)" } ?? "\(variable) (unset)"
            return "Cannot take the shard from the environment: \(shown): \(reason). "
                + "Pass --shard INDEX/COUNT (1-based; --shard 1/1 runs the whole stage) to override the environment."
        }
    }
}
