import Foundation

/// The image files a command is given: files as named, folders expanded to the PNG and JPEG
/// files they hold (`.png`, `.jpg`, `.jpeg`, any case; hidden names skipped), sorted by name,
/// without descending into sub-folders unless asked.
///
/// ```swift
/// let images = try ImageInputs.expand(["photos/", "extra.jpg"])   // photos/a.jpg, photos/b.png, extra.jpg
/// ```
public enum ImageInputs {
    /// The file name extensions (lower case) taken from a folder.
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// `paths` with every folder replaced by its image files, in order.
    ///
    /// - Parameter recursive: also take the images of sub-folders (depth first, sorted).
    /// - Throws: ``FileAccessError/notFound(path:)`` for a path that does not exist, and
    ///   ``FileAccessError/unreadable(path:reason:)`` for a folder that cannot be listed or
    ///   holds no image. Non-folders are passed on as given (the reader checks them).
    public static func expand(_ paths: [String], recursive: Bool = false) throws(FileAccessError) -> [String] {
        var result: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                result.append(path)
                continue
            }
            let found = try images(in: path, recursive: recursive)
            if found.isEmpty {
                throw .unreadable(path: path, reason: "the folder holds no .png/.jpg/.jpeg file"
                                  + (recursive ? "" : " (sub-folders are read with --recursive)"))
            }
            result += found
        }
        return result
    }

    private static func images(in folder: String, recursive: Bool) throws(FileAccessError) -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw .unreadable(path: folder, reason: "the folder cannot be listed")
        }
        var result: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = (folder as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                if recursive { result += try images(in: path, recursive: true) }
            } else if extensions.contains((name as NSString).pathExtension.lowercased()) {
                result.append(path)
            }
        }
        return result
    }
}
