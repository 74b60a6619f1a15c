import Foundation

/// A fresh directory under the system temporary directory, removed when the body returns.
struct HDF5TemporaryDirectory {
    let path: String

    func file(_ name: String) -> String { path + "/" + name }

    /// Files other than those listed (e.g. leftover temporary files of atomic writes).
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    @discardableResult
    static func with<T>(_ body: (HDF5TemporaryDirectory) throws -> T) throws -> T {
        let path = NSTemporaryDirectory() + "/divseg-hdf5-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(HDF5TemporaryDirectory(path: path))
    }
}
