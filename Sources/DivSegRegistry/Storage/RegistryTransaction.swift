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

        /// The path the operation changes (for messages).
        var target: String {
            switch self {
            case .rename(_, let to): to
            case .remove(let path): path
            }
        }
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

    struct Journal: Codable {
        var version: Int
        var id: String
        var operations: [Operation]
        /// True for the journal of a rollback (the undoing of a commit that failed half-way):
        /// it is completed like any journal, but not rolled back in turn.
        var rollback: Bool?
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
        Self.removeStaging(stagingName, in: directory)
    }

    /// Commits: syncs the staging folder, keeps hard links of the files it replaces (so that
    /// a failure half-way can be undone), writes the journal, carries out `operations` in
    /// order and removes the journal.
    ///
    /// When an operation fails, the ones before it are undone (``RegistryError/writeFailed(path:reason:)``
    /// is thrown and the registry keeps its previous state); only when undoing fails too is
    /// the journal left for the next command (``RegistryError/unfinishedTransaction(directory:reason:)``).
    public func commit(_ operations: [Operation], lockTimeout: Double = 60) throws {
        try commit(operations, lockTimeout: lockTimeout, crash: nil, failure: nil, observer: nil)
    }

    /// ``commit(_:lockTimeout:)`` with fault injection for the crash-safety tests: `crash`
    /// ends the process at that point, `failure` makes that operation fail; `observer` is
    /// called at every commit step (the points of ``CrashPoint``), on the committing thread
    /// while it holds the exclusive commit lock, so that tests run readers exactly between
    /// two steps.
    @_spi(Testing)
    public func commit(_ operations: [Operation], lockTimeout: Double = 60, crash: CrashPoint?,
                       failure: CrashPoint?, observer: (@Sendable (CrashPoint) -> Void)? = nil) throws {
        for operation in operations { try Self.validate(operation, id: id, in: directory) }
        let lock = try RegistryLock.commitLock(registry: directory, exclusive: true, timeout: lockTimeout, create: true)
        defer { lock?.release() }
        try keepPrevious(of: operations)
        Self.syncTree(stagingDirectory)
        DurableFile.syncDirectory(directory)
        Self.reached(.staged, crash: crash, observer: observer)
        let journal = Journal(version: 1, id: id, operations: operations)
        try Self.writeJournal(journal, in: directory)
        Self.reached(.journal, crash: crash, observer: observer)
        try Self.execute(journal, in: directory, crash: crash, failure: failure, observer: observer)
    }

    /// Hard links (or copies) of the regular files the commit replaces or deletes, as
    /// `previous-<name>` in the staging folder: what a rollback puts back.
    private func keepPrevious(of operations: [Operation]) throws {
        var targets: [String] = []
        for operation in operations {
            switch operation {
            case .rename(let from, let to) where from.hasPrefix(stagingName + "/"): targets.append(to)
            case .remove(let path) where path != stagingName: targets.append(path)
            default: break
            }
        }
        for name in targets {
            let path = (directory as NSString).appendingPathComponent(name)
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            let backup = stagedPath("previous-" + name)
            if link(path, backup) != 0 { try DurableFile.copy(from: path, to: backup) }
        }
    }

    /// Completes an interrupted commit (or the rollback of a failed one), if the folder has
    /// a journal. Returns whether there was one.
    ///
    /// - Throws: ``RegistryError/invalidJournal(path:reason:)`` for a journal this divseg
    ///   did not write (nothing is done then), or
    ///   ``RegistryError/unfinishedTransaction(directory:reason:)`` when the change can be
    ///   neither completed nor undone now (e.g. a read-only folder); the journal stays.
    @discardableResult
    public static func recover(in directory: String, lockTimeout: Double = 60) throws -> Bool {
        guard isPending(in: directory) else { return false }
        do {
            let lock = try RegistryLock.commitLock(registry: directory, exclusive: true, timeout: lockTimeout, create: true)
            defer { lock?.release() }
            // Another process may have completed it while this one waited for the lock.
            guard isPending(in: directory) else { return false }
            let journal = try readJournal(in: directory)
            try execute(journal, in: directory, crash: nil, failure: nil)
            return true
        } catch let error as RegistryError {
            switch error {
            case .unfinishedTransaction, .invalidJournal: throw error
            default: throw RegistryError.unfinishedTransaction(directory: directory, reason: error.description)
            }
        }
    }

    /// Reads and checks the journal without following a symlink, refusing anything but a
    /// small regular file that lists only operations a commit of this divseg writes.
    static func readJournal(in directory: String) throws -> Journal {
        let path = journalPath(directory)
        func invalid(_ reason: String) -> RegistryError { .invalidJournal(path: path, reason: reason) }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            throw code == ELOOP ? invalid("it is a symbolic link") : invalid("it cannot be opened: \(DurableFile.message(code))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw invalid("it is not a regular file") }
        guard info.st_size <= 1 << 20 else { throw invalid("it is \(info.st_size) bytes, far larger than any journal") }
        let data: Data
        do { data = try handle.readToEnd() ?? Data() } catch { throw invalid("it cannot be read: \(error.localizedDescription)") }
        let journal: Journal
        do { journal = try JSONDecoder().decode(Journal.self, from: data) } catch {
            throw invalid("it is not a change journal")
        }
        guard journal.version == 1 else { throw invalid("version \(journal.version); this divseg writes version 1") }
        guard isValidID(journal.id) else { throw invalid("the change id '\(journal.id)' is not one this divseg writes") }
        for operation in journal.operations {
            do { try validate(operation, id: journal.id, in: directory) } catch let RegistryError.unfinishedTransaction(_, reason) {
                throw invalid(reason)
            }
        }
        return journal
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
    }

    /// Carries out a journal: every operation in order, then removes the journal. When an
    /// operation fails, the ones before it are undone under a rollback journal (a rollback
    /// itself is not undone); a failing removal of the staging folder is only a leftover.
    static func execute(_ journal: Journal, in directory: String, crash: CrashPoint?, failure: CrashPoint?,
                        observer: (@Sendable (CrashPoint) -> Void)? = nil) throws {
        let staging = stagingPrefix + journal.id
        for (index, operation) in journal.operations.enumerated() {
            do {
                if failure == .operation(index + 1) {
                    throw RegistryError.writeFailed(path: (directory as NSString).appendingPathComponent(operation.target),
                                                    reason: "simulated failure (a test's fail point)")
                }
                try apply(operation, id: journal.id, in: directory)
            } catch let error as RegistryError {
                // Everything the change needs is in place: the staging folder is a leftover
                // that the next change deletes.
                if operation == .remove(path: staging) { break }
                if journal.rollback == true {
                    throw RegistryError.unfinishedTransaction(directory: directory, reason: "undoing a failed change failed: \(error.description)")
                }
                let undo = Journal(version: 1, id: journal.id, operations: inverse(of: Array(journal.operations.prefix(index)), staging: staging, in: directory) + [.remove(path: staging)], rollback: true)
                do {
                    try writeJournal(undo, in: directory)
                    try execute(undo, in: directory, crash: nil, failure: nil)
                } catch let undoError as RegistryError {
                    throw RegistryError.unfinishedTransaction(directory: directory, reason: "\(error.description) Undoing the change failed too (\(undoError.description))")
                }
                throw error
            }
            reached(.operation(index + 1), crash: crash, observer: observer)
        }
        DurableFile.syncDirectory(directory)
        reached(.applied, crash: crash, observer: observer)
        try removeJournal(in: directory)
    }

    /// The operations that undo `done` (in reverse order). Each is idempotent on its own and
    /// no two touch the same name, so replaying the list after a crash is safe.
    static func inverse(of done: [Operation], staging: String, in directory: String) -> [Operation] {
        func exists(_ name: String) -> Bool {
            var info = stat()
            return lstat((directory as NSString).appendingPathComponent(name), &info) == 0
        }
        var result: [Operation] = []
        for operation in done.reversed() {
            switch operation {
            case .rename(let from, let to) where from.hasPrefix(staging + "/"):
                // Put the replaced file back over the new one, or move the new one out.
                let previous = staging + "/previous-" + to
                result.append(exists(previous) ? .rename(from: previous, to: to) : .rename(from: to, to: from))
            case .rename(let from, let to):
                result.append(.rename(from: to, to: from))
            case .remove(let path):
                let previous = staging + "/previous-" + path
                if path != staging, exists(previous) { result.append(.rename(from: previous, to: path)) }
            }
        }
        return result
    }

    static func writeJournal(_ journal: Journal, in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try DurableFile.writeAtomically(try encoder.encode(journal), to: journalPath(directory))
    }

    /// Moves an invalid journal aside (never deleting it) as `.transaction.json.invalid-<time>`,
    /// so that the registry can be used again. Returns the new name.
    static func setJournalAside(in directory: String) throws -> String {
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let name = journalName + ".invalid-" + stamp
        let path = journalPath(directory)
        guard rename(path, (directory as NSString).appendingPathComponent(name)) == 0 else {
            throw RegistryError.writeFailed(path: path, reason: "cannot move it aside: \(DurableFile.message(errno))")
        }
        DurableFile.syncDirectory(directory)
        return name
    }

    /// Whether the folder has a journal (an interrupted commit).
    public static func isPending(in directory: String) -> Bool {
        var info = stat()
        return lstat(journalPath(directory), &info) == 0
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
            removeStaging(name, in: directory)
        }
    }

    /// Deletes a staging folder or temporary file of the registry; a symlink in its place is
    /// only unlinked, never followed.
    static func removeStaging(_ name: String, in directory: String) {
        let path = (directory as NSString).appendingPathComponent(name)
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            try? FileManager.default.removeItem(atPath: path)
        } else {
            unlink(path)
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

    /// Only operations a commit writes are allowed: a rename between a top-level entry `Y`
    /// of the registry and `<staging>/Y`, `<staging>/removed-Y` or `<staging>/previous-Y`
    /// (in either direction), and the removal of the staging folder or of `segmenter.h5`.
    /// So even a tampered journal can only move names inside the registry folder.
    static func validate(_ operation: Operation, id: String, in directory: String) throws {
        let staging = stagingPrefix + id
        func refuse(_ path: String) -> RegistryError {
            .unfinishedTransaction(directory: directory, reason: "the journal names the path '\(path)', which is not inside the registry or not one a commit writes")
        }
        func isTopLevel(_ name: String) -> Bool {
            !name.isEmpty && !name.contains("/") && !name.hasPrefix(".") && name != ".." && name.utf8.count <= 255
        }
        switch operation {
        case .rename(let from, let to):
            let (inside, outside) = from.hasPrefix(staging + "/") ? (from, to) : (to, from)
            guard inside.hasPrefix(staging + "/") else { throw refuse(isTopLevel(from) ? to : from) }
            guard isTopLevel(outside) else { throw refuse(outside) }
            let leaf = String(inside.dropFirst(staging.count + 1))
            guard [outside, "removed-" + outside, "previous-" + outside].contains(leaf) else { throw refuse(inside) }
        case .remove(let path):
            guard path == staging || path == Registry.segmenterFileName else { throw refuse(path) }
        }
    }

    /// Carries out one operation, never through a symlink: the staging folder must be a
    /// real folder, and renames and removals act on the names themselves (a symlink is
    /// moved or unlinked, not followed).
    static func apply(_ operation: Operation, id: String, in directory: String) throws {
        func full(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let staging = stagingPrefix + id
        var stagingInfo = stat()
        if lstat(full(staging), &stagingInfo) == 0, (stagingInfo.st_mode & S_IFMT) != S_IFDIR {
            throw RegistryError.invalidJournal(path: journalPath(directory), reason: "its staging folder '\(staging)' is not a folder (a symlink or file was put in its place)")
        }
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
            if (info.st_mode & S_IFMT) == S_IFDIR {
                do { try FileManager.default.removeItem(atPath: path) } catch {
                    throw RegistryError.writeFailed(path: path, reason: "cannot delete it: \(error.localizedDescription)")
                }
            } else if unlink(path) != 0 {
                throw RegistryError.writeFailed(path: path, reason: "cannot delete it: \(DurableFile.message(errno))")
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

    /// A commit step is done: tell the test observer, then crash there if asked to.
    static func reached(_ point: CrashPoint, crash: CrashPoint?, observer: (@Sendable (CrashPoint) -> Void)?) {
        observer?(point)
        crashIfRequested(crash, at: point)
    }

    static func crashIfRequested(_ requested: CrashPoint?, at point: CrashPoint) {
        guard let requested, requested == point else { return }
        _exit(137)
    }
}
