import DivSegIO
import Foundation

/// Finds, and on request deletes, sample-store and feature-cache entries that no registered
/// class or corpus uses any more (`divseg-registry gc`; issue #13 point 10).
///
/// In use, for the given registries (every registry that shares the store or cache must be
/// named, or its entries are counted as unused):
/// - a sample-store entry whose key names an image of a registered bundle's corpus and only
///   registered classes with their current localizers (``SampleKey``); an entry that cannot
///   be read, or is not a sample-store entry, is unused too (it would be recomputed);
/// - a feature-cache entry (full or state, mirrored or not) of an image in a corpus.
///
/// Only files named as entries are considered (`v1/{fg,bg}/xx/<sha256>.h5` in a store,
/// `xx/<sha256>[-hflip][.state].h5` in a cache): regular files inside the two folders,
/// never a link, never anything else in or outside them.
///
/// ```swift
/// let plan = try StorageCollector.plan(registries: [registry], sampleStore: store.directory,
///                                      cacheDirectory: ".divseg-cache/features")
/// print(plan.summary)                        // dry run
/// let result = plan.delete()                 // only when asked
/// ```
public struct StorageCollector: Sendable {
    /// One file to delete.
    public struct Entry: Sendable, Equatable, Codable {
        public var path: String
        public var bytes: Int64
        /// Why it is unused.
        public var reason: String
    }

    /// Unused sample-store entries, and how many are kept.
    public var sampleEntries: [Entry] = []
    public var keptSampleEntries = 0
    /// Unused feature-cache entries, and how many are kept.
    public var cacheEntries: [Entry] = []
    public var keptCacheEntries = 0

    /// Bytes that deleting would free.
    public var sampleBytes: Int64 { sampleEntries.reduce(0) { $0 + $1.bytes } }
    public var cacheBytes: Int64 { cacheEntries.reduce(0) { $0 + $1.bytes } }

    /// What was found, for people.
    public var summary: String {
        "sample store: \(sampleEntries.count) unused entr\(sampleEntries.count == 1 ? "y" : "ies") "
            + "(\(DiskUsage.text(sampleBytes))), \(keptSampleEntries) in use; feature cache: \(cacheEntries.count) "
            + "unused entr\(cacheEntries.count == 1 ? "y" : "ies") (\(DiskUsage.text(cacheBytes))), \(keptCacheEntries) in use"
    }

    /// Looks through `sampleStore` and `cacheDirectory` (either may be nil or absent).
    ///
    /// - Throws: ``BundleError`` when a bundle's corpus cannot be read (then nothing is judged).
    public static func plan(registries: [Registry], sampleStore: String?, cacheDirectory: String?) throws -> StorageCollector {
        var images = Set<String>()
        var classes = Set<String>()
        for registry in registries {
            for bundle in registry.bundles {
                for entry in try bundle.corpus().entries { images.insert(entry.sha256) }
                classes.insert("\(bundle.name):\(SampleKey.LocalizerIdentity(bundle).text)")
            }
        }
        var result = StorageCollector()
        if let sampleStore {
            for (path, bytes) in entryFiles(in: (sampleStore as NSString).appendingPathComponent("v1"), depth: 3,
                                            pattern: isStoreEntryName) {
                if let reason = unusedReason(storeEntry: path, images: images, classes: classes) {
                    result.sampleEntries.append(Entry(path: path, bytes: bytes, reason: reason))
                } else {
                    result.keptSampleEntries += 1
                }
            }
        }
        if let cacheDirectory {
            for (path, bytes) in entryFiles(in: cacheDirectory, depth: 2, pattern: isCacheEntryName) {
                let digest = String((path as NSString).lastPathComponent.prefix(64))
                if images.contains(digest) {
                    result.keptCacheEntries += 1
                } else {
                    result.cacheEntries.append(Entry(path: path, bytes: bytes, reason: "image in no registered corpus"))
                }
            }
        }
        return result
    }

    /// Deletes the unused entries (each re-checked to be a regular file); returns the paths
    /// that could not be deleted with the reason.
    public func delete() -> [(path: String, reason: String)] {
        var failures: [(String, String)] = []
        for entry in sampleEntries + cacheEntries {
            var info = stat()
            guard lstat(entry.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                failures.append((entry.path, "no longer a regular file; left alone"))
                continue
            }
            if unlink(entry.path) != 0 { failures.append((entry.path, String(cString: strerror(errno)))) }
        }
        return failures
    }

    // MARK: - Internals

    static func isHexDigest(_ name: Substring) -> Bool {
        name.count == 64 && name.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    static func isStoreEntryName(_ name: String) -> Bool {
        name.hasSuffix(".h5") && isHexDigest(name.dropLast(3))
    }

    static func isCacheEntryName(_ name: String) -> Bool {
        var stem = Substring(name)
        guard stem.hasSuffix(".h5") else { return false }
        stem = stem.dropLast(3)
        if stem.hasSuffix(".state") { stem = stem.dropLast(6) }
        if stem.hasSuffix("-hflip") { stem = stem.dropLast(6) }
        return isHexDigest(stem)
    }

    /// Regular files `depth` levels below `root` whose name matches; the folder levels above
    /// the file must be a store's `fg`/`bg` and two hex digits, or (cache) two hex digits.
    static func entryFiles(in root: String, depth: Int, pattern: (String) -> Bool) -> [(String, Int64)] {
        func isFolder(_ path: String) -> Bool {
            var info = stat()
            return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
        }
        guard isFolder(root) else { return [] }
        var folders = [root]
        for level in 0..<(depth - 1) {
            var next: [String] = []
            for folder in folders {
                for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
                    let ok = depth == 3 && level == 0 ? (name == "fg" || name == "bg")
                        : name.count == 2 && name.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
                    let path = (folder as NSString).appendingPathComponent(name)
                    if ok && isFolder(path) { next.append(path) }
                }
            }
            folders = next
        }
        var files: [(String, Int64)] = []
        for folder in folders {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() where pattern(name) {
                let path = (folder as NSString).appendingPathComponent(name)
                var info = stat()
                if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG { files.append((path, Int64(info.st_size))) }
            }
        }
        return files
    }

    /// Nil when the entry is in use, else why not.
    static func unusedReason(storeEntry path: String, images: Set<String>, classes: Set<String>) -> String? {
        let key: String
        do {
            let file = try HDF5File.open(path)
            defer { file.close() }
            guard (try? file.stringAttribute("format")) == SampleStore.formatName else { return "not a sample-store entry" }
            key = try file.stringAttribute("key")
        } catch {
            return "unreadable"
        }
        var fields: [String: String] = [:]
        for field in key.split(separator: "|") {
            if let equals = field.firstIndex(of: "=") {
                let name = String(field[..<equals])
                if fields[name] == nil { fields[name] = String(field[field.index(after: equals)...]) }
            }
        }
        guard let image = fields["image"], images.contains(image) else { return "image in no registered corpus" }
        var named: [String] = []
        if let name = fields["class"], let localizer = fields["localizer"] { named.append("\(name):\(localizer)") }
        if let list = fields["classes"], !list.isEmpty { named += list.split(separator: ",").map(String.init) }
        if let stale = named.first(where: { !classes.contains($0) }) {
            let name = stale.split(separator: ":").first.map(String.init) ?? stale
            return "class '\(name)' is not registered with that localizer"
        }
        return nil
    }
}
