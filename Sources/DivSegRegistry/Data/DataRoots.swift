import DivSegIO
import Foundation

/// Where the corpus images of a registry's bundles are looked for on this machine. Bundles
/// record only a ``CorpusIdentity`` (`coco:coco-mini`) and, in `corpus.csv`, each image's
/// path relative to the corpus folder with its SHA-256; the folder itself — the data root —
/// is the user's to give. Candidates, in order (the first folder that holds the image wins):
///
/// 1. ``explicit`` roots (`--data-root DIR`, repeatable);
/// 2. ``environment`` roots (`DIVSEG_DATA_ROOT`, `:`-separated like `PATH`);
/// 3. the registry's setting (``RegistrySettings/dataRoot`` in `<registry>/settings.json`);
/// 4. default places for the corpus's folder name: `$DIVSEG_SHARED/data/<name>`, then
///    `shared/data/<name>` beside the folder that holds the registry, then
///    `../shared/data/<name>` from the current directory (this workspace's layout).
///
/// An image found in a root must have the recorded SHA-256 (``CorpusImageError/hashMismatch(path:bundles:expected:actual:)``):
/// the same relative path in another data set is another image, and training on it would
/// silently change the class.
///
/// ```swift
/// var roots = DataRoots(explicit: ["/data/coco-mini"])   // also reads DIVSEG_DATA_ROOT, DIVSEG_SHARED
/// let places = try roots.candidates(for: CorpusIdentity(recorded: "coco:coco-mini"), registry: "classes")
/// let path = try roots.locate("images/000000000009.jpg", sha256: digest, in: places)
/// ```
public struct DataRoots: Sendable, Equatable {
    /// Name of the environment variable with data roots.
    public static let environmentVariable = "DIVSEG_DATA_ROOT"

    /// Why a folder is searched (named in error messages so users see what to change).
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case option
        case environment
        case registrySetting(file: String)
        case sharedFolder
        case besideRegistry
        case besideWorkingDirectory
        /// An absolute path that a bundle written by an older divseg recorded in corpus.csv.
        case recordedPath

        public var description: String {
            switch self {
            case .option: return "--data-root"
            case .environment: return "\(DataRoots.environmentVariable)"
            case .registrySetting(let file): return "registry setting in \(file)"
            case .sharedFolder: return "default: $DIVSEG_SHARED/data/<corpus>"
            case .besideRegistry: return "default: shared/data/<corpus> beside the registry's parent folder"
            case .besideWorkingDirectory: return "default: ../shared/data/<corpus> from the current directory"
            case .recordedPath: return "absolute path recorded in corpus.csv"
            }
        }
    }

    /// A folder to look in, and why.
    public struct Candidate: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var source: Source
        public init(path: String, source: Source) { self.path = path; self.source = source }
        public var description: String { "'\(path)' (\(source))" }
    }

    /// Roots given on the command line (`--data-root`), searched first.
    public var explicit: [String]
    /// Roots from `DIVSEG_DATA_ROOT`.
    public var environment: [String]
    /// `DIVSEG_SHARED`: the shared folder whose `data/<corpus>` is a default place.
    public var sharedFolder: String?
    /// Read the registry's `settings.json` (default true).
    public var useRegistrySetting = true
    /// Search the default places (default true; tests turn it off to see the error alone).
    public var useDefaultPlaces = true

    /// Roots from `explicit` plus those the environment names (`DIVSEG_DATA_ROOT`,
    /// `DIVSEG_SHARED`); pass `environment: [:]` to ignore the process environment.
    public init(explicit: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.explicit = explicit
        self.environment = (environment[Self.environmentVariable] ?? "").split(separator: ":").map(String.init)
        self.sharedFolder = environment["DIVSEG_SHARED"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The folders to search for the images of `corpus` in the registry at `registry`, in
    /// order, without duplicates.
    ///
    /// - Throws: ``RegistryError/damagedSettings(path:reason:)``.
    public func candidates(for corpus: CorpusIdentity, registry: String) throws -> [Candidate] {
        var result = explicit.map { Candidate(path: $0, source: .option) }
        result += environment.map { Candidate(path: $0, source: .environment) }
        if useRegistrySetting, let root = try RegistrySettings.read(registry: registry).resolvedDataRoot(registry: registry) {
            result.append(Candidate(path: root, source: .registrySetting(file: RegistrySettings.path(registry: registry))))
        }
        if useDefaultPlaces, !corpus.name.isEmpty {
            let tail = "shared/data/" + corpus.name
            if let sharedFolder {
                result.append(Candidate(path: (sharedFolder as NSString).appendingPathComponent("data/" + corpus.name), source: .sharedFolder))
            }
            let cwd = FileManager.default.currentDirectoryPath
            let absoluteRegistry = registry.hasPrefix("/") ? registry : (cwd as NSString).appendingPathComponent(registry)
            // classes/ sits in the package; the package's parent holds shared/.
            let package = ((absoluteRegistry as NSString).standardizingPath as NSString).deletingLastPathComponent
            result.append(Candidate(path: ((package as NSString).deletingLastPathComponent as NSString).appendingPathComponent(tail),
                                    source: .besideRegistry))
            result.append(Candidate(path: Self.absolute("../" + tail), source: .besideWorkingDirectory))
        }
        var seen = Set<String>()
        return result.filter { candidate in
            let key = Self.absolute(candidate.path)
            return seen.insert(key).inserted
        }
    }

    /// The file of a corpus image: `recorded` (a corpus.csv path) under the first candidate
    /// that holds it, checked against `sha256`; nil when no candidate holds it. An absolute
    /// `recorded` path (written by older divseg builds) is only looked for where it points.
    ///
    /// - Throws: ``CorpusImageError/hashMismatch(path:bundles:expected:actual:)`` when the
    ///   first file found is another image; ``CorpusImageError/unreadable(path:reason:)``.
    public func locate(_ recorded: String, sha256: String, in candidates: [Candidate],
                       bundles: [String] = []) throws(CorpusImageError) -> String? {
        let paths = recorded.hasPrefix("/") ? [recorded]
            : candidates.map { ($0.path as NSString).appendingPathComponent(recorded) }
        guard let path = paths.first(where: { FileManager.default.fileExists(atPath: $0) }) else { return nil }
        let actual: String
        do { actual = try FileDigest.sha256(ofFileAt: path) } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        guard actual == sha256 else {
            throw .hashMismatch(path: path, bundles: bundles, expected: sha256, actual: actual)
        }
        return path
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (full as NSString).standardizingPath
    }
}

/// Why a corpus image cannot be used for retraining. Each message names the image, what is
/// wrong and how to fix it.
public enum CorpusImageError: Error, Equatable, CustomStringConvertible {
    /// No data root holds the image. `missing` of the `needed` images that have no
    /// sample-store entries are absent (`image` is the first of them).
    case missing(image: String, corpus: String, bundles: [String], searched: [DataRoots.Candidate],
                 registry: String, missing: Int, needed: Int)
    /// The file found is not the image the bundles were trained on.
    case hashMismatch(path: String, bundles: [String], expected: String, actual: String)
    /// The file exists but cannot be read.
    case unreadable(path: String, reason: String)
    /// Two bundles record different contents for the same image path.
    case conflictingRecords(image: String, bundle: String, sha256: String, otherBundle: String, otherSHA256: String)

    public var description: String {
        switch self {
        case .missing(let image, let corpus, let bundles, let searched, let registry, let missing, let needed):
            let owners = bundles.isEmpty ? "" : ", listed by " + Self.list(bundles.map { "'\($0)'" }, limit: 3, noun: "bundles")
            let more = missing > 1 ? " \(missing - 1) more of the \(needed) images that need their file are missing too." : ""
            let places = searched.isEmpty ? "no folder (no --data-root, \(DataRoots.environmentVariable) or registry setting, and no corpus name to look for)"
                : searched.map(\.description).joined(separator: ", ")
            // A common slip: a root one level too deep (e.g. …/coco-mini/images for images/x.jpg).
            let file = (image as NSString).lastPathComponent
            let tooDeep = image.contains("/") ? searched.first { FileManager.default.fileExists(atPath: ($0.path as NSString).appendingPathComponent(file)) } : nil
            let hint = tooDeep.map { " Note: '\($0.path)' holds '\(file)' directly; the data root is the folder above it, the one that holds '\(image)'." } ?? ""
            return "The corpus image '\(image)' (corpus \(corpus)\(owners)) is in none of the data roots searched: \(places).\(more)\(hint) "
                + "Point divseg at the folder that holds '\(image)': pass --data-root DIR, set \(DataRoots.environmentVariable)=DIR, "
                + "or record it for this registry with `divseg-registry config data-root DIR --registry \(registry)`. "
                + "(Images whose picks are in the registry's sample store, \(registry)/\(SampleStore.folderName), need no file.)"
        case .hashMismatch(let path, let bundles, let expected, let actual):
            let owners = bundles.isEmpty ? "its bundle's corpus.csv" : "corpus.csv of " + Self.list(bundles.map { "'\($0)'" }, limit: 3, noun: "bundles")
            return "The image '\(path)' is not the one recorded in \(owners): its SHA-256 is \(actual), expected \(expected). "
                + "This data root holds other or modified images; point divseg at the original data (--data-root DIR) or restore the file."
        case .unreadable(let path, let reason):
            return "The corpus image '\(path)' cannot be read (\(reason)). Check its permissions, or point divseg at another copy of the data with --data-root DIR."
        case .conflictingRecords(let image, let bundle, let sha, let other, let otherSHA):
            return "The bundles '\(bundle)' and '\(other)' record different contents for the corpus image '\(image)' (SHA-256 \(sha.prefix(12))… and \(otherSHA.prefix(12))…): they were trained on different versions of the data. Retrain one of them on the data the other used."
        }
    }
}

extension CorpusImageError {
    /// "a, b, c and 4 more bundles".
    static func list(_ items: [String], limit: Int, noun: String) -> String {
        guard items.count > limit else { return items.joined(separator: ", ") }
        return items.prefix(limit).joined(separator: ", ") + " and \(items.count - limit) more \(noun)"
    }
}

extension CorpusImageError: LocalizedError {
    public var errorDescription: String? { description }
}
