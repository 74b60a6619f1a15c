import DivSeg
import DivSegIO
import Foundation

/// A class bundle directory (`classes/<name>/`): manifest, localizer weights and corpus,
/// checked for consistency when opened.
///
/// ```swift
/// let bundle = try ClassBundle(at: "classes/giraffe", backbone: registry.backbone)
/// let localizer = try bundle.loadLocalizer()
/// ```
public struct ClassBundle: Sendable {
    public let directory: String
    public let manifest: BundleManifest

    public var name: String { manifest.name }
    public var localizerPath: String { (directory as NSString).appendingPathComponent(manifest.localizer.file) }
    public var corpusPath: String { (directory as NSString).appendingPathComponent("corpus.csv") }

    /// Opens and validates a bundle: manifest schema and fields, file names that stay inside
    /// the bundle, the localizer file's hash, and — when `backbone` is given — that it was
    /// trained on the same feature extractor.
    public init(at directory: String, backbone: BundleManifest.BackboneInfo?) throws {
        let manifest = try BundleManifest.read(from: (directory as NSString).appendingPathComponent("manifest.json"))
        try ClassBundle.checkFileName(manifest.localizer.file, bundle: directory)
        let localizer = (directory as NSString).appendingPathComponent(manifest.localizer.file)
        guard FileManager.default.fileExists(atPath: localizer) else {
            throw BundleError.missingFile(bundle: directory, file: manifest.localizer.file)
        }
        let digest = try FileDigest.sha256(ofFileAt: localizer)
        guard digest == manifest.localizer.sha256 else {
            throw BundleError.hashMismatch(bundle: directory, file: manifest.localizer.file,
                                           expected: manifest.localizer.sha256, actual: digest)
        }
        if let backbone {
            if manifest.backbone.featureRule != backbone.featureRule {
                throw BundleError.incompatibleBackbone(bundle: directory, detail: "features '\(manifest.backbone.featureRule)', expected '\(backbone.featureRule)'")
            }
            if manifest.backbone.weightsSHA256 != backbone.weightsSHA256 {
                throw BundleError.incompatibleBackbone(bundle: directory, detail: "backbone weights sha256 \(manifest.backbone.weightsSHA256.prefix(12))…, expected \(backbone.weightsSHA256.prefix(12))…")
            }
        }
        guard !manifest.name.isEmpty, manifest.name == ClassNames.canonical(manifest.name) else {
            throw BundleError.badManifest(bundle: directory, detail: "class name '\(manifest.name)' is not canonical (lower case, e.g. '\(ClassNames.canonical(manifest.name))')")
        }
        guard manifest.scoreScale.isFinite, manifest.scoreScale > 0 else {
            throw BundleError.badManifest(bundle: directory, detail: "scoreScale must be a positive number")
        }
        self.directory = directory
        self.manifest = manifest
    }

    /// A file name from a manifest must be a plain name inside the bundle.
    static func checkFileName(_ name: String, bundle: String) throws {
        if name.isEmpty || name.hasPrefix("/") || name.contains("/") || name.contains("\\") || name == "." || name == ".." {
            throw BundleError.unsafePath(bundle: bundle, path: name)
        }
    }

    /// The bundle's corpus.
    public func corpus() throws -> CorpusFile {
        try CorpusFile.read(from: corpusPath, bundle: directory)
    }

    /// Writes a bundle directory atomically: files go to a temporary sibling directory that is
    /// renamed into place, so a reader sees the old bundle or the new one, never a mix.
    /// `writeLocalizer` writes the weights to the path it is given.
    public static func write(to directory: String, manifest: BundleManifest, corpus: CorpusFile,
                             writeLocalizer: (String) throws -> Void) throws -> ClassBundle {
        let fm = FileManager.default
        let parent = (directory as NSString).deletingLastPathComponent
        try fm.createDirectory(atPath: parent.isEmpty ? "." : parent, withIntermediateDirectories: true)
        let staging = directory + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: false)
        do {
            var manifest = manifest
            try checkFileName(manifest.localizer.file, bundle: directory)
            let localizer = (staging as NSString).appendingPathComponent(manifest.localizer.file)
            try writeLocalizer(localizer)
            manifest.localizer.sha256 = try FileDigest.sha256(ofFileAt: localizer)
            try corpus.csv().write(toFile: (staging as NSString).appendingPathComponent("corpus.csv"), atomically: true, encoding: .utf8)
            try manifest.encoded().write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent("manifest.json")), options: .atomic)
            // Swap: an existing bundle is moved aside first, then removed once the new one is in place.
            var old: String?
            if fm.fileExists(atPath: directory) {
                old = directory + ".old-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                try fm.moveItem(atPath: directory, toPath: old!)
            }
            try fm.moveItem(atPath: staging, toPath: directory)
            if let old { try? fm.removeItem(atPath: old) }
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        return try ClassBundle(at: directory, backbone: nil)
    }
}
