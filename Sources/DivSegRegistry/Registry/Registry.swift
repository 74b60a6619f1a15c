import DivSeg
import DivSegIO
import Foundation
import DivSegDatasets

/// A registry folder of class bundles (default `./classes`): discovers and validates bundles,
/// assigns stable label ids and locates the shared segmenter trained for them. A value is a
/// snapshot of the folder when it was opened; change the folder with ``RegistryEditor``.
///
/// Problems are reported per bundle; healthy bundles are served regardless. Label ids come
/// from the folder's `labels.json` ledger (``LabelLedger``): a class keeps its id for good,
/// and the id of a removed class is not given to another one.
///
/// Folder layout: one bundle directory per class, `segmenter.h5`, `labels.json`, and hidden
/// entries that are not part of the registry's state: `.samples/` (the sample store, a
/// cache), `.lock` and `.commit-lock` (see ``RegistryLock``), `.transaction.json` and
/// `.tmp-*` (an interrupted change, see ``RegistryTransaction``).
///
/// ```swift
/// let registry = try Registry.open("classes", backbone: try BackboneIdentity.vgg16(weightsAt: weights))
/// for problem in registry.problems { print(problem) }
/// print(registry.labels)   // ["aeroplane": 1, …, "giraffe": 21]
/// let segmenter = try registry.loadSegmenter()   // refuses a stale one
/// ```
public struct Registry: Sendable {
    public let directory: String
    /// Healthy bundles, ordered by label id.
    public let bundles: [ClassBundle]
    /// Bundles that could not be used, with the reason.
    public let problems: [BundleError]
    /// Label id of every healthy class (background is 0).
    public let labels: [String: Int]
    /// The label ledger with the ids of this snapshot's classes recorded (what a mutation
    /// writes to `labels.json`).
    public let ledger: LabelLedger
    /// Registry-level issues that do not stop it from being used (e.g. an unreadable
    /// `labels.json`), one sentence each.
    public let warnings: [String]

    /// Why `labels.json` could not be read when the snapshot was taken (ids were then
    /// assigned afresh, so a segmenter cannot match), or nil.
    var ledgerProblem: RegistryError?
    /// `segmenter.h5` as it was when the snapshot was taken (opened under the shared commit
    /// lock): a commit that replaces the file afterwards does not change what this snapshot
    /// loads, so a reader never pairs old classes with a new segmenter or the reverse.
    var segmenterSnapshot: SnapshotFile?
    /// Whether this value was taken by ``open(_:backbone:)`` (then a nil
    /// ``segmenterSnapshot`` means there was no usable segmenter file at that moment).
    var isSnapshot = false

    /// File name of the shared segmenter inside the registry folder.
    public static let segmenterFileName = "segmenter.h5"
    /// Where the shared segmenter lives.
    public var segmenterPath: String { (directory as NSString).appendingPathComponent(Registry.segmenterFileName) }

    /// Class names in segmenter channel order: "background", then classes by label id.
    public var segmenterClasses: [String] { ["background"] + bundles.map(\.name) }
    /// Label id of each segmenter channel (0 for background).
    public var channelLabels: [UInt8] { [0] + bundles.map { UInt8(labels[$0.name]!) } }

    /// Opens a registry folder. A missing folder is an error; an empty one is a valid,
    /// empty registry. A change that a crashed command left half-done is completed first
    /// (see ``RegistryTransaction``), and the folder is read under the shared commit lock,
    /// so the snapshot is never a mix of two states.
    ///
    /// ```swift
    /// let registry = try Registry.open("classes", backbone: nil)   // nil: skip the backbone check
    /// ```
    ///
    /// - Throws: ``RegistryError/notFound(_:)``, or
    ///   ``RegistryError/unfinishedTransaction(directory:reason:)`` when an interrupted
    ///   change cannot be completed (e.g. on a read-only copy).
    public static func open(_ directory: String, backbone: BundleManifest.BackboneInfo?) throws -> Registry {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RegistryError.notFound(directory)
        }
        for _ in 0..<5 {
            try RegistryTransaction.recover(in: directory)
            // Created when the folder is writable, so that even the first commit excludes readers.
            let readLock = (try? RegistryLock.commitLock(registry: directory, exclusive: false, timeout: 60, create: true))
                ?? (try? RegistryLock.commitLock(registry: directory, exclusive: false, timeout: 60, create: false))
            defer { readLock?.release() }
            // A committer that crashed while this process waited for the lock left a journal.
            if RegistryTransaction.isPending(in: directory) { continue }
            var registry = try scan(directory, backbone: backbone)
            registry.segmenterSnapshot = SnapshotFile(path: registry.segmenterPath)
            registry.isSnapshot = true
            return registry
        }
        throw RegistryError.unfinishedTransaction(directory: directory, reason: "changes keep being interrupted")
    }

    /// Reads the bundles and the ledger (no locking).
    static func scan(_ directory: String, backbone: BundleManifest.BackboneInfo?) throws -> Registry {
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        var bundles: [ClassBundle] = []
        var problems: [BundleError] = []
        for entry in entries where isBundleCandidate(entry) {
            let path = (directory as NSString).appendingPathComponent(entry)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { continue }
            do {
                bundles.append(try ClassBundle(at: path, backbone: backbone))
            } catch let error as BundleError {
                problems.append(error)
            }
        }
        var warnings: [String] = []
        var ledger = LabelLedger()
        var ledgerProblem: RegistryError?
        do { ledger = try LabelLedger.read(registry: directory) } catch {
            warnings.append("\(error) Label ids are assigned afresh until then.")
            ledgerProblem = error as? RegistryError
        }
        var registry = assemble(directory: directory, candidates: bundles, problems: problems, ledger: ledger, warnings: warnings)
        registry.ledgerProblem = ledgerProblem
        return registry
    }

    /// Whether a folder entry can be a bundle (hidden entries and staging leftovers are not).
    static func isBundleCandidate(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.contains(".tmp-") && !name.contains(".old-")
    }

    /// A registry of already validated bundles: duplicate names or aliases are refused (the
    /// first bundle by directory name keeps the name), label ids come from `ledger`.
    static func assemble(directory: String, candidates: [ClassBundle], problems: [BundleError],
                         ledger: LabelLedger, warnings: [String] = []) -> Registry {
        var problems = problems
        var owners: [String: String] = [:]
        var unique: [ClassBundle] = []
        for bundle in candidates {
            let names = [bundle.name] + bundle.manifest.aliases.map(ClassNames.canonical)
            if let clash = names.first(where: { owners[$0] != nil }) {
                problems.append(.badManifest(bundle: bundle.directory, detail: "the name '\(clash)' is already used by bundle '\(owners[clash]!)'"))
                continue
            }
            for n in names { owners[n] = bundle.directory }
            unique.append(bundle)
        }
        var ledger = ledger
        var labels: [String: Int] = [:]
        var assigned: [ClassBundle] = []
        do {
            labels = try ledger.assign(unique.map { ($0.name, $0.manifest.preferredLabel) })
            assigned = unique
        } catch {
            // More than 254 classes: the ones that fit keep ids, the rest are refused.
            for bundle in unique.sorted(by: { $0.name < $1.name }) {
                if let label = try? ledger.assign([(bundle.name, bundle.manifest.preferredLabel)])[bundle.name] {
                    labels[bundle.name] = label
                    assigned.append(bundle)
                } else {
                    problems.append(.noFreeLabel(bundle: bundle.directory, className: bundle.name))
                }
            }
        }
        return Registry(directory: directory, bundles: assigned.sorted { labels[$0.name]! < labels[$1.name]! },
                        problems: problems, labels: labels, ledger: ledger, warnings: warnings)
    }

    /// A fingerprint of the class set (names, label ids, localizer hashes): a segmenter
    /// trained for another fingerprint is stale.
    public var fingerprint: String {
        let lines = bundles.map { "\(labels[$0.name]!) \($0.name) \($0.manifest.localizer.sha256) \($0.manifest.scoreScale)" }
        return FileDigest.sha256(of: Data(lines.joined(separator: "\n").utf8))
    }

    /// The shared segmenter, if it was trained for exactly this class set.
    ///
    /// ```swift
    /// let pipeline = SegmentationPipeline(extractor: extractor, segmenter: try registry.loadSegmenter(),
    ///                                     channelLabels: registry.channelLabels)
    /// ```
    ///
    /// - Throws: ``RegistryError/noSegmenter(_:)`` or ``RegistryError/staleSegmenter(_:)``
    ///   (both tell the user to run `retrain`), or the segmenter file's own error.
    public func loadSegmenter() throws -> Segmenter {
        if let snapshot = segmenterSnapshot {
            return try snapshot.withCopy { try loadSegmenter(from: $0) }
        }
        do {
            var info = stat()
            let exists = lstat(segmenterPath, &info) == 0
            if exists, (info.st_mode & S_IFMT) != S_IFREG {
                throw RegistryError.segmenterMismatch(directory: directory, detail: "'\(segmenterPath)' is not a regular file (a folder, symlink or device is in its place). Move it away and run `divseg-registry retrain --registry \(directory)`")
            }
            // A segmenter that appeared after this snapshot belongs to another state.
            guard exists, !isSnapshot else { throw RegistryError.noSegmenter(directory) }
        }
        return try loadSegmenter(from: segmenterPath)
    }

    private func loadSegmenter(from source: String) throws -> Segmenter {
        let segmenter = try Segmenter(contentsOf: source, displayPath: segmenterPath)
        guard segmenter.fingerprint == fingerprint, segmenter.classes == segmenterClasses else {
            throw mismatchError(trainedFor: segmenter.classes)
        }
        // A file that was replaced by hand with one of the same classes but other weights.
        try checkRecordedDigest(of: source)
        return segmenter
    }

    /// Refuses a segmenter file (the registry's, or a snapshot's copy at `source`) that is not
    /// the one whose SHA-256 the ledger recorded.
    func checkRecordedDigest(of source: String) throws {
        guard let recorded = ledger.segmenterSHA256 else { return }
        let actual = try FileDigest.sha256(ofFileAt: source)
        guard actual == recorded else {
            throw RegistryError.segmenterMismatch(directory: directory, detail: "'\(segmenterPath)' does not match the SHA-256 recorded in \(LabelLedger.fileName) (\(actual.prefix(12))…, expected \(recorded.prefix(12))…): it was replaced or damaged. Run `divseg-registry retrain --registry \(directory)` to write a new one")
        }
    }

    /// Why a segmenter trained for `trained` does not fit this snapshot: a damaged ledger or
    /// refused bundles say so; otherwise the class set changed (stale).
    func mismatchError(trainedFor trained: [String]) -> RegistryError {
        if let ledgerProblem {
            return .segmenterMismatch(directory: directory, detail: "its label ids cannot be checked because \(ledgerProblem.description)")
        }
        let missing = Set(trained).subtracting(segmenterClasses)
        let refused = problems.filter { missing.contains(($0.bundle as NSString).lastPathComponent) }
        if !refused.isEmpty {
            return .segmenterMismatch(directory: directory, detail: "it was trained with \(refused.map { "'\(($0.bundle as NSString).lastPathComponent)'" }.joined(separator: ", ")), which is refused now: \(refused.map(\.description).joined(separator: " ")) Repair or re-copy that bundle (or remove it and retrain)")
        }
        return .staleSegmenter(directory)
    }

    /// Whether the segmenter file fits this class set (reads only its header).
    ///
    /// ```swift
    /// if registry.segmenterStatus == .stale { print("run `divseg-registry retrain`") }
    /// ```
    public var segmenterStatus: SegmenterStatus {
        guard segmenterSnapshot != nil || (!isSnapshot && FileManager.default.fileExists(atPath: segmenterPath)) else {
            return bundles.isEmpty ? .notNeeded : .missing
        }
        do {
            func status(_ path: String) throws -> SegmenterStatus {
                let file = try HDF5File.open(path)
                defer { file.close() }
                let classes = try file.stringArrayAttribute("classes")
                let fingerprint = try file.stringAttribute("fingerprint")
                return fingerprint == self.fingerprint && classes == segmenterClasses ? .current : .stale
            }
            return try segmenterSnapshot.map { try $0.withCopy(status) } ?? status(segmenterPath)
        } catch {
            return .unreadable("\(error)")
        }
    }

    /// One row per bundle directory, healthy or refused, ordered by name: what
    /// `divseg-registry list` prints.
    ///
    /// ```swift
    /// for row in registry.summaries() { print(row.name, row.label ?? -1, row.status) }
    /// ```
    public func summaries() -> [ClassSummary] {
        var rows = bundles.map { bundle in
            ClassSummary(name: bundle.name, label: labels[bundle.name], directory: bundle.directory,
                         source: bundle.manifest.training.corpusIdentity.description, positives: bundle.manifest.training.positives,
                         created: bundle.manifest.created, status: .ok)
        }
        for problem in problems {
            let manifest = try? BundleManifest.read(from: (problem.bundle as NSString).appendingPathComponent("manifest.json"))
            rows.append(ClassSummary(name: manifest?.name ?? (problem.bundle as NSString).lastPathComponent, label: nil,
                                     directory: problem.bundle, source: manifest?.training.corpusIdentity.description,
                                     positives: manifest?.training.positives, created: manifest?.created,
                                     status: .refused(problem.description)))
        }
        return rows.sorted { ($0.name, $0.directory) < ($1.name, $1.directory) }
    }

    /// The class with a label id, if any ("background" for 0).
    public func className(label: Int) -> String? {
        label == 0 ? "background" : labels.first { $0.value == label }?.key
    }

    /// The colours shown for the registry's labels: ``ColorPalette/distinct``, so by label id
    /// (VOC's colours for the VOC classes, well-separated ones for the others). Label ids are
    /// stable, so a class keeps its colour; the manifest's `color` (a hash of the name for a
    /// class outside VOC, which could land next to another class's) is not used for display.
    public var palette: ColorPalette { .distinct }

    /// The bundle of a class (by name or alias).
    public func bundle(named name: String) -> ClassBundle? {
        let canonical = ClassNames.canonical(name)
        return bundles.first { $0.name == canonical || $0.manifest.aliases.map(ClassNames.canonical).contains(canonical) }
    }
}

/// An open, read-only descriptor of a registry file taken in a snapshot. Closed when the
/// last snapshot holding it goes away.
final class SnapshotFile: Sendable {
    let descriptor: Int32

    /// Opens `path` if it is a regular file (not through a symlink, never blocking on a
    /// FIFO); nil otherwise.
    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return nil
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Calls `body` with the path of a private copy of this very file (read through the
    /// descriptor, so it is the snapshot's file even after the name was renamed over; HDF5
    /// cannot open a replaced file through /proc). The copy is deleted afterwards.
    func withCopy<T>(_ body: (String) throws -> T) throws -> T {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        while true {
            let count = pread(descriptor, &buffer, buffer.count, offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw RegistryError.writeFailed(path: "segmenter.h5", reason: "cannot read the registry's segmenter: \(DurableFile.message(errno))")
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
            offset += off_t(count)
        }
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("divseg-segmenter-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).h5")
        try DurableFile.write(data, to: path)
        defer { unlink(path) }
        return try body(path)
    }
}
