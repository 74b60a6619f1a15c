import DivSeg
import DivSegIO
import Foundation
import DivSegDatasets

/// A class bundle directory (`classes/<name>/`): manifest, localizer weights and corpus,
/// checked for consistency when opened.
///
/// ```swift
/// let bundle = try ClassBundle(at: "classes/giraffe", backbone: try BackboneIdentity.vgg16(weightsAt: weights))
/// let localizer = try bundle.loadLocalizer()   // either architecture, shape checked
/// print(bundle.manifest.training.positives)
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
        // One open + fstat decides: missing, not a regular file (a directory, FIFO or device
        // would break or hang every command on the registry), or hashed.
        let digest: String
        do { digest = try FileDigest.sha256(ofFileAt: localizer) } catch let error as FileDigest.DigestError {
            switch error {
            case .notRegularFile(_, let kind):
                throw BundleError.badLocalizer(bundle: directory, detail: "\(manifest.localizer.file) is \(kind), "
                    + "not a regular file; copy the bundle again or retrain it")
            case .unreadable:
                if !FileManager.default.fileExists(atPath: localizer) {
                    throw BundleError.missingFile(bundle: directory, file: manifest.localizer.file)
                }
                throw BundleError.badLocalizer(bundle: directory, detail: "\(manifest.localizer.file) cannot be read; "
                    + "check its permissions")
            }
        }
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

    /// The bundle's localizer, either architecture, checked against the manifest's shape.
    ///
    /// - Throws: ``BundleError/badLocalizer(bundle:detail:)`` naming the bundle, with the
    ///   loader's reason (the file was hash-checked when the bundle was opened).
    public func loadLocalizer() throws -> any ClassLocalizer {
        let localizer: any ClassLocalizer
        do { localizer = try LocalizerFile.load(contentsOf: localizerPath) } catch {
            throw BundleError.badLocalizer(bundle: directory, detail: "\(error)")
        }
        let info = manifest.localizer
        guard localizer.inputChannels == info.inputChannels, localizer.hiddenUnits == info.hiddenUnits else {
            throw BundleError.badLocalizer(bundle: directory, detail: "the weights have \(localizer.inputChannels) inputs and \(localizer.hiddenUnits) hidden units, the manifest says \(info.inputChannels) and \(info.hiddenUnits)")
        }
        return localizer
    }

    /// The bundle's corpus.
    public func corpus() throws -> CorpusFile {
        try CorpusFile.read(from: corpusPath, bundle: directory)
    }

    /// Writes a bundle directory atomically: files go to a temporary sibling directory that is
    /// renamed into place, so a reader sees the old bundle or the new one, never a mix.
    /// `writeLocalizer` writes the weights to the path it is given.
    ///
    /// `directory` is checked with ``BundleTarget/check(_:replace:)`` before anything is
    /// written and again just before the swap: a folder of other files, a file, a device or a
    /// registry is never replaced, an existing bundle only with `replace`. An existing target
    /// is swapped with the new bundle in one step where the file system can
    /// (`renameat2(RENAME_EXCHANGE)`), else moved aside and restored if the move in fails.
    public static func write(to directory: String, manifest: BundleManifest, corpus: CorpusFile,
                             replace: Bool = false,
                             writeLocalizer: (String) throws -> Void) throws -> ClassBundle {
        try BundleTarget.check(directory, replace: replace)
        let fm = FileManager.default
        let parent = (directory as NSString).deletingLastPathComponent
        do {
            try fm.createDirectory(atPath: parent.isEmpty ? "." : parent, withIntermediateDirectories: true)
        } catch {
            throw FileAccessError.notWritable(path: directory, reason: "its folder '\(parent)' cannot be created")
        }
        let staging = directory + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do { try fm.createDirectory(atPath: staging, withIntermediateDirectories: false) } catch {
            throw FileAccessError.notWritable(path: directory, reason: "cannot create '\(staging)' beside it "
                + "(\(RegularFile.systemMessage(errno)))")
        }
        do {
            var manifest = manifest
            try checkFileName(manifest.localizer.file, bundle: directory)
            let localizer = (staging as NSString).appendingPathComponent(manifest.localizer.file)
            try writeLocalizer(localizer)
            manifest.localizer.sha256 = try FileDigest.sha256(ofFileAt: localizer)
            try RegularFile.writeAtomically(Array(corpus.csv().utf8), to: (staging as NSString).appendingPathComponent("corpus.csv"))
            try RegularFile.writeAtomically(try manifest.encoded(), to: (staging as NSString).appendingPathComponent("manifest.json"))
            // Checked again: the target may have changed during training.
            switch try BundleTarget.check(directory, replace: replace) {
            case .absent:
                guard rename(staging, directory) == 0 else {
                    throw FileAccessError.notWritable(path: directory, reason: RegularFile.systemMessage(errno))
                }
            case .emptyDirectory, .bundle:
                if try RegularFile.exchange(staging, directory) {
                    // `staging` now holds the old bundle (checked: only its own files).
                    try? fm.removeItem(atPath: staging)
                } else {
                    let old = directory + ".old-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                    guard rename(directory, old) == 0 else {
                        throw FileAccessError.notWritable(path: directory, reason: RegularFile.systemMessage(errno))
                    }
                    guard rename(staging, directory) == 0 else {
                        let reason = RegularFile.systemMessage(errno)
                        _ = rename(old, directory)
                        throw FileAccessError.notWritable(path: directory, reason: reason)
                    }
                    try? fm.removeItem(atPath: old)
                }
            }
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        return try ClassBundle(at: directory, backbone: nil)
    }
}
