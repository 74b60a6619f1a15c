import Foundation

/// Why an HDF5 operation failed. Every case names the file, and where one is involved the
/// object (dataset, group or attribute), so the message alone tells a user what to fix.
///
/// ```swift
/// do {
///     let file = try HDF5File.open(weightsPath)
///     _ = try file.readFloats("block1_conv1/block1_conv1/kernel:0")
/// } catch let error as HDF5Error {
///     print(error)   // e.g. "The HDF5 file '/m/vgg16.h5' is damaged or incomplete ..."
/// }
/// ```
public enum HDF5Error: Error, Equatable, CustomStringConvertible {
    /// Nothing exists at `path`.
    case fileNotFound(path: String)
    /// The path names a directory, FIFO, device or socket: only regular files are opened
    /// (a FIFO would block HDF5 for ever, `/dev/zero` would be read without end).
    case notRegularFile(path: String, kind: String)
    /// The file exists but carries no HDF5 signature (an image, text, an empty file, ...).
    case notHDF5(path: String)
    /// The operating system refused to open the file: permissions, a directory, a lock held
    /// by another process, or the same file already open in a conflicting mode.
    case openFailed(path: String, detail: String)
    /// The file starts like HDF5 but cannot be decoded: truncated (an interrupted download
    /// or copy) or damaged. `detail` carries HDF5's own innermost error message.
    case corrupt(path: String, detail: String)
    /// No dataset or group `object` in the file (or a component of its path is missing).
    case missingObject(path: String, object: String)
    /// `object` exists but has no attribute `attribute`.
    case missingAttribute(path: String, object: String, attribute: String)
    /// `object` is not what was asked for: a group instead of a dataset, strings instead
    /// of numbers, an array where one value was expected.
    case wrongType(path: String, object: String, detail: String)
    /// Values and shape disagree (writing), or the stored element count is not what the
    /// caller expected.
    case shapeMismatch(path: String, object: String, detail: String)
    /// Creating, writing, closing or renaming the file failed.
    case writeFailed(path: String, detail: String)
    /// A write was attempted on a file opened with ``HDF5File/open(_:)``.
    case readOnly(path: String)
    /// The ``HDF5File`` was used after ``HDF5File/close()``.
    case closed(path: String)

    /// The file every case refers to.
    public var path: String {
        switch self {
        case .fileNotFound(let path), .notHDF5(let path), .readOnly(let path), .closed(let path):
            return path
        case .notRegularFile(let path, _):
            return path
        case .openFailed(let path, _), .corrupt(let path, _), .writeFailed(let path, _):
            return path
        case .missingObject(let path, _), .missingAttribute(let path, _, _):
            return path
        case .wrongType(let path, _, _), .shapeMismatch(let path, _, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "There is no file at '\(path)'. Check the path (relative paths are resolved "
                + "against the current directory)."
        case .notRegularFile(let path, let kind):
            return "'\(path)' is \(kind), not a regular file, so it cannot be opened as an HDF5 "
                + "file. Give the path of the .h5 file itself."
        case .notHDF5(let path):
            return "The file '\(path)' is not an HDF5 file (it has no HDF5 signature). Check that "
                + "the path names the .h5 file and not, say, an image or a download error page."
        case .openFailed(let path, let detail):
            return "The HDF5 file '\(path)' could not be opened: \(detail). Check its permissions "
                + "and that no other process is writing it."
        case .corrupt(let path, let detail):
            return "The HDF5 file '\(path)' is damaged or incomplete: \(detail). It was probably "
                + "truncated by an interrupted download or copy; fetch or regenerate it."
        case .missingObject(let path, let object):
            return "The HDF5 file '\(path)' has no object '\(object)'. Check the name; "
                + "`h5ls -r` lists what the file contains."
        case .missingAttribute(let path, let object, let attribute):
            return "The object '\(object)' in the HDF5 file '\(path)' has no attribute "
                + "'\(attribute)'. The file may have been written by another tool or version."
        case .wrongType(let path, let object, let detail):
            return "The object '\(object)' in the HDF5 file '\(path)' has the wrong type: "
                + "\(detail)."
        case .shapeMismatch(let path, let object, let detail):
            return "The shape of '\(object)' in the HDF5 file '\(path)' does not fit: \(detail)."
        case .writeFailed(let path, let detail):
            return "Writing the HDF5 file '\(path)' failed: \(detail). Check that the directory "
                + "exists, is writable and has free space."
        case .readOnly(let path):
            return "The HDF5 file '\(path)' was opened read-only; write through "
                + "HDF5File.create or HDF5File.writeAtomically instead."
        case .closed(let path):
            return "The HDF5 file '\(path)' was already closed; open it again to use it."
        }
    }
}

// Without this, `error.localizedDescription` on Linux is a generic "operation could not be
// completed" and the file and object names are lost.
extension HDF5Error: LocalizedError {
    public var errorDescription: String? { description }
}
