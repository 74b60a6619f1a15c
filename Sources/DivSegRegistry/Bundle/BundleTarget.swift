import DivSegIO
import Foundation

/// Where a new bundle may be written (`train … --out D`), checked before training and again
/// just before the new bundle is swapped in.
///
/// The rule protects files the user did not name as an output: `D` must not exist, be an
/// empty folder, or hold a bundle and nothing else — and an existing bundle is replaced only
/// when the caller says so (`--force`). A folder of other files, a regular file, a device or
/// a symbolic link is never replaced. A bundle is never written inside a registry: that would
/// bypass its lock and its segmenter; `divseg-registry add` registers bundles.
///
/// ```swift
/// let state = try BundleTarget.check("out/giraffe", replace: false)   // before training
/// ```
public enum BundleTarget {
    /// What is at the target now.
    public enum State: Equatable, Sendable {
        /// Nothing: the bundle is renamed into place.
        case absent
        /// An empty folder: replaced, nothing is lost.
        case emptyDirectory
        /// A bundle (only bundle files), replaced atomically because replacing was asked for.
        case bundle(name: String)
    }

    /// Files a registry folder holds and a bundle never does.
    public static let registryMarkers = ["labels.json", Registry.segmenterFileName, ".lock"]

    /// Checks `directory` as the output of a new bundle; throws ``BundleTargetError``.
    @discardableResult
    public static func check(_ directory: String, replace: Bool) throws -> State {
        guard !directory.isEmpty else { throw BundleTargetError.notABundle(path: directory, what: "an empty path") }
        if let registry = enclosingRegistry(of: directory) {
            throw BundleTargetError.insideRegistry(path: directory, registry: registry)
        }
        var info = stat()
        if lstat(directory, &info) != 0 {
            if errno == ENOENT { return .absent }
            throw BundleTargetError.notABundle(path: directory, what: "unreachable (\(RegularFile.systemMessage(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw BundleTargetError.notABundle(path: directory, what: RegularFile.kind(ofMode: info.st_mode))
        }
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted() } catch {
            throw BundleTargetError.notABundle(path: directory, what: "a folder that cannot be listed")
        }
        if entries.isEmpty { return .emptyDirectory }
        let manifestPath = (directory as NSString).appendingPathComponent("manifest.json")
        guard entries.contains("manifest.json"), let manifest = try? BundleManifest.read(from: manifestPath) else {
            throw BundleTargetError.notABundle(path: directory, what: "a folder of other files (\(listing(entries)))")
        }
        // Only the bundle's own files, each a regular file: anything else would be lost.
        let own: Set<String> = ["manifest.json", "corpus.csv", manifest.localizer.file]
        let foreign = entries.filter { name in
            var entry = stat()
            let path = (directory as NSString).appendingPathComponent(name)
            return !own.contains(name) || lstat(path, &entry) != 0 || (entry.st_mode & S_IFMT) != S_IFREG
        }
        guard foreign.isEmpty else {
            throw BundleTargetError.notABundle(path: directory, what: "a bundle folder that also holds other files (\(listing(foreign)))")
        }
        guard replace else { throw BundleTargetError.bundleExists(path: directory, name: manifest.name) }
        return .bundle(name: manifest.name)
    }

    /// The registry folder `directory` is or lies in, if any: itself or its parent holding a
    /// registry marker, or its grandparent when the parent is a bundle (`classes/giraffe/x`).
    /// Symbolic links are resolved, so a link into a registry is caught too.
    static func enclosingRegistry(of directory: String) -> String? {
        let target = OutputPlan.resolvedPath(directory)
        let parent = (target as NSString).deletingLastPathComponent
        var candidates = [target, parent]
        if FileManager.default.fileExists(atPath: (parent as NSString).appendingPathComponent("manifest.json")) {
            candidates.append((parent as NSString).deletingLastPathComponent)
        }
        for candidate in candidates {
            for marker in registryMarkers {
                var info = stat()
                if lstat((candidate as NSString).appendingPathComponent(marker), &info) == 0 { return candidate }
            }
        }
        return nil
    }

    private static func listing(_ names: [String]) -> String {
        names.count <= 3 ? names.joined(separator: ", ") : names.prefix(3).joined(separator: ", ") + ", …"
    }
}

/// Why a bundle cannot be written where asked. Every message names the path and the fix.
public enum BundleTargetError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Something that is not a bundle is there (a file, a device, a folder of other files).
    case notABundle(path: String, what: String)
    /// A bundle is there and replacing was not asked for.
    case bundleExists(path: String, name: String)
    /// The target is a registry or inside one.
    case insideRegistry(path: String, registry: String)

    public var description: String {
        switch self {
        case .notABundle(let path, let what):
            return "'\(path)' exists and is not a class bundle (it is \(what)); nothing was written "
                + "and it is left as it is. Choose another --out, or move it away yourself."
        case .bundleExists(let path, let name):
            return "'\(path)' already holds the bundle '\(name)'; pass --force to replace it "
                + "(atomically), or choose another --out."
        case .insideRegistry(let path, let registry):
            return "'\(path)' is inside the registry '\(registry)'; a bundle is not written there "
                + "directly (it would bypass the registry's lock and segmenter). Train it elsewhere, "
                + "then use `divseg-registry add` to register it."
        }
    }

    public var errorDescription: String? { description }
}
