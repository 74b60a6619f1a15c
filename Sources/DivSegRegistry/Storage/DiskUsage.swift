import Foundation

/// Bytes and regular files under a folder (symbolic links are not followed), for the sizes
/// `list` and `verify` report.
///
/// ```swift
/// let usage = DiskUsage.of("classes")
/// print(DiskUsage.text(usage.bytes), usage.files)   // "11.2 MB 94"
/// ```
public struct DiskUsage: Sendable, Equatable, Codable {
    /// Sum of the regular files' sizes.
    public var bytes: Int64
    /// Number of regular files.
    public var files: Int

    public init(bytes: Int64 = 0, files: Int = 0) { self.bytes = bytes; self.files = files }

    /// The usage of `path` (a file, or a folder walked without following links); zero when absent.
    public static func of(_ path: String) -> DiskUsage {
        var usage = DiskUsage()
        var info = stat()
        guard lstat(path, &info) == 0 else { return usage }
        if info.st_mode & S_IFMT == S_IFREG { return DiskUsage(bytes: Int64(info.st_size), files: 1) }
        guard info.st_mode & S_IFMT == S_IFDIR, let enumerator = FileManager.default.enumerator(atPath: path) else {
            return usage
        }
        while let name = enumerator.nextObject() as? String {
            var entry = stat()
            guard lstat((path as NSString).appendingPathComponent(name), &entry) == 0,
                  entry.st_mode & S_IFMT == S_IFREG else { continue }
            usage.bytes += Int64(entry.st_size)
            usage.files += 1
        }
        return usage
    }

    /// Decimal megabytes or gigabytes, one decimal ("708.3 MB").
    public static func text(_ bytes: Int64) -> String {
        let value = Double(bytes)
        if value >= 1e9 { return "\((value / 1e8).rounded() / 10) GB" }
        if value >= 1e6 { return "\((value / 1e5).rounded() / 10) MB" }
        if value >= 1e3 { return "\((value / 1e2).rounded() / 10) KB" }
        return "\(bytes) bytes"
    }
}
