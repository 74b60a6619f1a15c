/// One part of a stage split across `count` processes: shard `index` of `count`, **1-based**
/// (`2/4` is the second of four; `1/1` is the whole stage).
///
/// Images are assigned round-robin by their position in the stage's sorted image list
/// (dataset ids in id order, a registry's corpus in path order): the image at 0-based
/// position `p` belongs to shard `p % count + 1`. Every process of a stage builds the same
/// list, so the shards cover every image exactly once, and their sizes differ by at most one.
///
/// A shard comes from `--shard i/n` or from the environment of a cluster job
/// (``fromEnvironment(_:)``: a Slurm job array or a Kubernetes Indexed Job).
///
/// ```swift
/// let shard = try Shard(parsing: "2/4")
/// let mine = shard.select(imagePaths)          // positions 1, 5, 9, …
/// print(shard)                                  // 2/4
/// ```
public struct Shard: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 1-based position of this shard, in `1...count`.
    public let index: Int
    /// Number of shards the stage is split into, in ``countRange``.
    public let count: Int

    /// The shard counts accepted: one shard (the whole stage) up to a million processes.
    public static let countRange: ClosedRange<Int> = 1...1_000_000
    /// The whole stage in one process.
    public static let whole = Shard(uncheckedIndex: 1, count: 1)

    /// Environment variable giving the shard count next to Kubernetes' `JOB_COMPLETION_INDEX`
    /// (set it to the Job's `completions`).
    public static let countVariable = "DIVSEG_SHARD_COUNT"

    private init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Shard `index` (1-based) of `count`.
    ///
    /// - Throws: ``ShardError/invalid(_:reason:)`` when `count` is outside ``countRange`` or
    ///   `index` outside `1...count`.
    public init(index: Int, count: Int) throws(ShardError) {
        guard Self.countRange.contains(count) else {
            throw .invalid("\(index)/\(count)", reason: "the shard count must be in \(Self.countRange.lowerBound)...\(Self.countRange.upperBound)")
        }
        guard (1...count).contains(index) else {
            throw .invalid("\(index)/\(count)", reason: "shards are numbered from 1 to the count (\(count)); "
                + (index == 0 ? "for the first shard write 1/\(count)" : "\(index) is outside 1...\(count)"))
        }
        self.init(uncheckedIndex: index, count: count)
    }

    /// Parses `i/n` (1-based): `1/4` … `4/4`.
    ///
    /// - Throws: ``ShardError/invalid(_:reason:)`` naming the text and what is expected.
    public init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw .invalid(text, reason: "expected INDEX/COUNT with whole numbers, 1-based, e.g. 1/4 … 4/4")
        }
        try self.init(index: index, count: count)
    }

    /// Whether the image at 0-based `position` of the stage's list belongs to this shard.
    public func contains(position: Int) -> Bool {
        position % count == index - 1
    }

    /// The elements of `items` (the stage's full, sorted list) that belong to this shard, in order.
    public func select<Element>(_ items: [Element]) -> [Element] {
        stride(from: index - 1, to: items.count, by: count).map { items[$0] }
    }

    /// `i/n`.
    public var description: String { "\(index)/\(count)" }

    /// Whether this is the whole stage (`1/1`).
    public var isWhole: Bool { count == 1 }

    /// Encoded as its text `i/n`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// The shard a cluster job's environment asks for, or nil when it names none.
    ///
    /// - **Slurm job array**: `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`,
    ///   `SLURM_ARRAY_TASK_MIN` and `SLURM_ARRAY_TASK_STEP` (default 1). The task id is the
    ///   array index, which need not start at 0 (`--array=1-4`, `--array=10-40:10`):
    ///   shard = (id − min) / step + 1. Arrays given as lists (`--array=1,5,7`) are not
    ///   contiguous and are refused; use a range.
    /// - **Kubernetes Indexed Job**: `JOB_COMPLETION_INDEX` (0-based) with the count in
    ///   ``countVariable`` (`DIVSEG_SHARD_COUNT`): shard = index + 1.
    ///
    /// Slurm wins when both are present. An explicit `--shard` beats both (the caller decides).
    ///
    /// ```swift
    /// let shard = try Shard.fromEnvironment(ProcessInfo.processInfo.environment) ?? .whole
    /// ```
    /// - Throws: ``ShardError/environment(variable:value:reason:)`` for a missing companion
    ///   variable, a value that is not a number, or an id outside the array.
    public static func fromEnvironment(_ environment: [String: String]) throws(ShardError) -> Shard? {
        func number(_ name: String, required: Bool, default value: Int? = nil) throws(ShardError) -> Int? {
            guard let text = environment[name], !text.isEmpty else {
                if required && value == nil {
                    throw .environment(variable: name, value: nil, reason: "it must be set next to "
                        + (name == countVariable ? "JOB_COMPLETION_INDEX (set it to the Job's completions)" : "SLURM_ARRAY_TASK_ID"))
                }
                return value
            }
            guard let parsed = Int(text.trimmingWhitespace()) else {
                throw .environment(variable: name, value: text, reason: "not a whole number")
            }
            return parsed
        }
        if let id = try number("SLURM_ARRAY_TASK_ID", required: false) {
            let count = try number("SLURM_ARRAY_TASK_COUNT", required: true)!
            let minimum = try number("SLURM_ARRAY_TASK_MIN", required: true)!
            let step = try number("SLURM_ARRAY_TASK_STEP", required: false, default: 1)!
            guard step >= 1, id >= minimum, (id - minimum) % step == 0 else {
                throw .environment(variable: "SLURM_ARRAY_TASK_ID", value: String(id),
                                   reason: "not in the array \(minimum)-…:\(step) (SLURM_ARRAY_TASK_MIN \(minimum), step \(step)); submit the array as a range, e.g. --array=0-\(max(count - 1, 0))")
            }
            let index = (id - minimum) / step + 1
            do { return try Shard(index: index, count: count) } catch {
                throw .environment(variable: "SLURM_ARRAY_TASK_ID", value: String(id),
                                   reason: "gives shard \(index) of SLURM_ARRAY_TASK_COUNT \(count): \(error.description) — the array must be one contiguous range, e.g. --array=0-\(max(count - 1, 0))")
            }
        }
        if let completion = try number("JOB_COMPLETION_INDEX", required: false) {
            let count = try number(countVariable, required: true)!
            do { return try Shard(index: completion + 1, count: count) } catch {
                throw .environment(variable: "JOB_COMPLETION_INDEX", value: String(completion),
                                   reason: "with \(countVariable)=\(count): \(error.description)")
            }
        }
        return nil
    }
}

private extension String {
    func trimmingWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return self[first...last]
    }
}
