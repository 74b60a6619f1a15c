/// One bundle directory of a registry as `divseg-registry list` shows it.
///
/// ```swift
/// let rows = registry.summaries()
/// let json = try JSONEncoder().encode(rows)   // name, id, source, positives, created, status
/// ```
public struct ClassSummary: Sendable, Equatable, Encodable {
    /// Whether the bundle is served.
    public enum Status: Sendable, Equatable {
        case ok
        /// Not served, with the reason (``BundleError`` text).
        case refused(String)
    }

    /// Class name (the directory name when the manifest cannot be read).
    public var name: String
    /// Label id in label maps; nil for a refused bundle.
    public var label: Int?
    public var directory: String
    /// The dataset spec the localizer was trained on.
    public var source: String?
    /// Positive training images.
    public var positives: Int?
    /// When the bundle was made (ISO 8601).
    public var created: String?
    public var status: Status

    public init(name: String, label: Int?, directory: String, source: String?, positives: Int?,
                created: String?, status: Status) {
        self.name = name; self.label = label; self.directory = directory; self.source = source
        self.positives = positives; self.created = created; self.status = status
    }

    private enum CodingKeys: String, CodingKey { case name, id, directory, source, positives, created, status, problem }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(label, forKey: .id)
        try container.encode(directory, forKey: .directory)
        try container.encode(source, forKey: .source)
        try container.encode(positives, forKey: .positives)
        try container.encode(created, forKey: .created)
        switch status {
        case .ok:
            try container.encode("ok", forKey: .status)
        case .refused(let reason):
            try container.encode("refused", forKey: .status)
            try container.encode(reason, forKey: .problem)
        }
    }
}
