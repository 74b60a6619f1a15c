import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File writes that survive a crash: data is flushed to disk (`fsync`) before it is renamed
/// into place, and directory entries are flushed after renames.
enum DurableFile {
    /// Writes `data` to `path` atomically: a temporary sibling is written and synced, then
    /// renamed over `path`, then the directory is synced. A reader (or a crash) sees the old
    /// file or the new one, never part of it.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        do {
            try write(data, to: tmp)
            guard rename(tmp, path) == 0 else {
                throw RegistryError.writeFailed(path: path, reason: "cannot rename the temporary file over it: \(message(errno))")
            }
        } catch {
            unlink(tmp)
            throw error
        }
        syncDirectory(containing: path)
    }

    /// Creates (or truncates) `path` with `data` and syncs it to disk (not atomic: for files
    /// in a staging directory that nobody reads yet).
    static func write(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RegistryError.writeFailed(path: path, reason: message(errno)) }
        defer { close(fd) }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let written = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw RegistryError.writeFailed(path: path, reason: message(errno))
                }
                offset += written
            }
        }
        guard fsync(fd) == 0 else { throw RegistryError.writeFailed(path: path, reason: "fsync: \(message(errno))") }
    }

    /// Copies a regular file and syncs the copy.
    static func copy(from source: String, to destination: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: source)) } catch {
            throw RegistryError.writeFailed(path: destination, reason: "cannot read '\(source)': \(error.localizedDescription)")
        }
        try write(data, to: destination)
    }

    /// Flushes an existing file's data to disk.
    static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RegistryError.writeFailed(path: path, reason: message(errno)) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw RegistryError.writeFailed(path: path, reason: "fsync: \(message(errno))") }
    }

    /// Flushes a directory's entries (renames, creations) to disk. Some file systems refuse
    /// to sync directories; that leaves correct contents, so it is not an error.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Syncs the directory that holds `path`.
    static func syncDirectory(containing path: String) {
        syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// The C library's text for an errno value.
    static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// `write(2)` (a free function, so that `DurableFile.write` does not shadow it).
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
