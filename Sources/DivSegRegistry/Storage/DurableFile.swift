import DivSegIO
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The registry's view of ``RegularFile``'s durable writes: the same single implementation,
/// with failures reported as ``RegistryError/writeFailed(path:reason:)`` so that every
/// registry change fails with the registry's own error type.
enum DurableFile {
    /// ``RegularFile/writeAtomically(_:to:)``: the old file or the complete new one, never
    /// part of it, even across a crash.
    static func writeAtomically(_ data: Data, to path: String) throws {
        try mapped { () throws(FileAccessError) in try RegularFile.writeAtomically(data, to: path) }
    }

    /// Creates (or truncates) `path` with `data` and syncs it to disk (not atomic: for files
    /// in a staging directory that nobody reads yet).
    static func write(_ data: Data, to path: String) throws {
        try mapped { () throws(FileAccessError) in try RegularFile.writeDurably(data, to: path) }
    }

    /// Copies a regular file (never a FIFO or device) and syncs the copy.
    static func copy(from source: String, to destination: String) throws {
        let bytes: [UInt8]
        do throws(FileAccessError) {
            bytes = try RegularFile.readAll(source, limit: Int.max)
        } catch {
            throw RegistryError.writeFailed(path: destination, reason: "cannot read '\(source)': \(error.reason)")
        }
        try mapped { () throws(FileAccessError) in try RegularFile.writeDurably(bytes, to: destination) }
    }

    /// Flushes a directory's entries (renames, creations) to disk.
    static func syncDirectory(_ directory: String) {
        RegularFile.syncDirectory(directory)
    }

    /// The C library's text for an errno value.
    static func message(_ code: Int32) -> String {
        RegularFile.systemMessage(code)
    }

    private static func mapped(_ body: () throws(FileAccessError) -> Void) throws {
        do throws(FileAccessError) { try body() } catch {
            throw RegistryError.writeFailed(path: error.path, reason: error.reason)
        }
    }
}
