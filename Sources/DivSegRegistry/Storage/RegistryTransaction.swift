import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A change of several files of a registry folder, committed all or nothing.
///
/// Everything new is first written into a hidden staging folder `.tmp-<id>/` inside the
/// registry (and synced to disk). The commit then writes a journal, `.transaction.json`,
/// listing the renames and removals that turn the old state into the new one, and carries
/// them out. The journal's appearance (an atomic rename) is the commit point:
/// - a crash before it leaves the old state (plus a staging folder that the next mutation
///   deletes);
/// - a crash after it is rolled forward by the next command that opens the registry: every
///   operation is idempotent (a rename whose source is gone was done), so replaying the
///   journal any number of times gives the new state.
/// Commits and roll-forwards hold the exclusive commit lock, and readers the shared one
/// (see ``RegistryLock``), so no reader sees half a commit.
///
/// ```swift
/// let transaction = try RegistryTransaction.begin(in: "classes")
/// try segmenter.save(to: transaction.stagedPath("segmenter.h5"))
/// try transaction.commit([.rename(from: transaction.stagedName("segmenter.h5"), to: "segmenter.h5"),
///                         .remove(path: transaction.stagingName)])
/// ```
public struct RegistryTransaction: Sendable {
    /// One step of a commit; paths are relative to the registry folder.
    public enum Operation: Codable, Sendable, Equatable {
        /// Moves `from` to `to` (replacing a file at `to`); done already when `from` is gone.
        case rename(from: String, to: String)
        /// Deletes a file or folder (recursively); done already when it is gone.
        case remove(path: String)
    }

    /// The registry folder.
    public let directory: String
    /// Unique id of this change.
    public let id: String

    /// File name of the journal inside the registry folder.
    public static let journalName = ".transaction.json"
    /// Prefix of staging folders.
    static let stagingPrefix = ".tmp-"

    /// The staging folder's name inside the registry.
    public var stagingName: String { Self.stagingPrefix + id }
    /// The staging folder.
    public var stagingDirectory: String { (directory as NSString).appendingPathComponent(stagingName) }
    /// `name` inside the staging folder, relative to the registry (for operations).
    public func stagedName(_ name: String) -> String { stagingName + "/" + name }
    /// Full path of `name` inside the staging folder.
    public func stagedPath(_ name: String) -> String { (stagingDirectory as NSString).appendingPathComponent(name) }

    private struct Journal: Codable {
        var version: Int
        var id: String
        var operations: [Operation]
    }

    /// Starts a change: creates the staging folder.
    ///
    /// - Throws: ``RegistryError/writeFailed(path:reason:)``.
    public static func begin(in directory: String) throws -> RegistryTransaction {
        let id = "\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let transaction = RegistryTransaction(directory: directory, id: id)
        guard mkdir(transaction.stagingDirectory, 0o755) == 0 else {
            throw RegistryError.writeFailed(path: transaction.stagingDirectory, reason: DurableFile.message(errno))
        }
        return transaction
    }

    /// Deletes the staging folder of a change that will not be committed.
    public func abandon() {
        try? FileManager.default.removeItem(atPath: stagingDirectory)
    }

    /// Commits: syncs the staging folder, writes the journal, carries out `operations` in
    /// order and removes the journal. `crash` ends the process at that point (tests only).
    ///
    /// - Throws: ``RegistryError``; after the journal is written, a failure leaves it in
    ///   place, and the next command completes the change.
    public func commit(_ operations: [Operation], lockTimeout: Double = 60, crash: CrashPoint? = nil) throws {
        for operation in operations { try Self.validate(operation, in: directory) }
        let lock = try RegistryLock.commitLock(registry: directory, exclusive: true, timeout: lockTimeout, create: true)
        defer { lock?.release() }
        Self.syncTree(stagingDirectory)
        DurableFile.syncDirectory(directory)
        Self.crashIfRequested(crash, at: .staged)
        let journal = Journal(version: 1, id: id, operations: operations)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try DurableFile.writeAtomically(try encoder.encode(journal), to: Self.journalPath(directory))
        Self.crashIfRequested(crash, at: .journal)
        for (index, operation) in operations.enumerated() {
            try Self.apply(operation, in: directory)
            Self.crashIfRequested(crash, at: .operation(index + 1))
        }
        DurableFile.syncDirectory(directory)
        Self.crashIfRequested(crash, at: .applied)
        try Self.removeJournal(in: directory)
    }

    /// Completes an interrupted commit, if the folder has a journal. Returns whether there
    /// was one.
    ///
    /// - Throws: ``RegistryError/unfinishedTransaction(directory:reason:)`` when the change
    ///   cannot be completed now (e.g. a read-only folder); the journal stays.
    @discardableResult
    public static func recover(in directory: String, lockTimeout: Double = 60) throws -> Bool {
        let path = journalPath(directory)
        guard FileManager.default.fileExists(atPath: path) else { return false }
        do {
            let lock = try RegistryLock.commitLock(registry: directory, exclusive: true, timeout: lockTimeout, create: true)
            defer { lock?.release() }
            // Another process may have completed it while this one waited for the lock.
            guard FileManager.default.fileExists(atPath: path) else { return false }
            let journal: Journal
            do {
                journal = try JSONDecoder().decode(Journal.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw RegistryError.unfinishedTransaction(directory: directory, reason: "its journal '\(path)' is unreadable (\(error.localizedDescription))")
            }
            for operation in journal.operations { try validate(operation, in: directory) }
            for operation in journal.operations { try apply(operation, in: directory) }
            DurableFile.syncDirectory(directory)
            try removeJournal(in: directory)
            return true
        } catch let error as RegistryError {
            if case .unfinishedTransaction = error { throw error }
            throw RegistryError.unfinishedTransaction(directory: directory, reason: error.description)
        }
    }

    /// Whether the folder has a journal (an interrupted commit).
    public static func isPending(in directory: String) -> Bool {
        FileManager.default.fileExists(atPath: journalPath(directory))
    }

    /// Leftovers of changes that never reached their commit point: staging folders and
    /// temporary files of atomic writes. Only call with the mutation lock held and no
    /// journal pending (``recover(in:lockTimeout:)`` first).
    static func leftovers(in directory: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { name in
            name.hasPrefix(stagingPrefix)
                || [journalName, LabelLedger.fileName, Registry.segmenterFileName].contains { name.hasPrefix($0 + ".tmp-") }
        }.sorted()
    }

    /// Deletes ``leftovers(in:)``.
    static func removeLeftovers(in directory: String) {
        for name in leftovers(in: directory) {
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
    }

    // MARK: - Internals

    static func journalPath(_ directory: String) -> String {
        (directory as NSString).appendingPathComponent(journalName)
    }

    private static func removeJournal(in directory: String) throws {
        let path = journalPath(directory)
        guard unlink(path) == 0 || errno == ENOENT else {
            throw RegistryError.writeFailed(path: path, reason: DurableFile.message(errno))
        }
        DurableFile.syncDirectory(directory)
    }

    /// Paths in a journal stay inside the registry folder: relative, no `..`, at most two
    /// components.
    static func validate(_ operation: Operation, in directory: String) throws {
        let paths: [String]
        switch operation {
        case .rename(let from, let to): paths = [from, to]
        case .remove(let path): paths = [path]
        }
        for path in paths {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.hasPrefix("/"), (1...2).contains(parts.count),
                  parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
                throw RegistryError.unfinishedTransaction(directory: directory, reason: "the journal names the path '\(path)', which is not inside the registry")
            }
        }
    }

    static func apply(_ operation: Operation, in directory: String) throws {
        func full(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        switch operation {
        case .rename(let from, let to):
            var info = stat()
            guard lstat(full(from), &info) == 0 else { return }   // done before
            // A folder that appeared at the destination behind the lock's back (a bundle copied
            // in by hand) is kept beside it, under a name discovery ignores, so the commit
            // can always complete.
            var target = stat()
            if (info.st_mode & S_IFMT) == S_IFDIR, lstat(full(to), &target) == 0, (target.st_mode & S_IFMT) == S_IFDIR {
                let aside = full(to) + ".old-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
                guard rename(full(to), aside) == 0 else {
                    throw RegistryError.writeFailed(path: full(to), reason: "cannot move the existing folder aside: \(DurableFile.message(errno))")
                }
            }
            guard rename(full(from), full(to)) == 0 else {
                throw RegistryError.writeFailed(path: full(to), reason: "cannot move '\(full(from))' there: \(DurableFile.message(errno))")
            }
        case .remove(let name):
            let path = full(name)
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw RegistryError.writeFailed(path: path, reason: "cannot delete it: \(error.localizedDescription)")
            }
        }
    }

    /// fsyncs every file and folder below `root` (staged files are synced when written;
    /// this covers the folder entries).
    static func syncTree(_ root: String) {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return }
        var directories = [root]
        while let relative = enumerator.nextObject() as? String {
            let path = (root as NSString).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                directories.append(path)
            }
        }
        for directory in directories { DurableFile.syncDirectory(directory) }
    }

    static func crashIfRequested(_ requested: CrashPoint?, at point: CrashPoint) {
        guard let requested, requested == point else { return }
        _exit(137)
    }
}
