import DivSegCore
import DivSegIO
import Foundation

/// A directory of precomputed image features (``CompactHypercolumns``), one HDF5 file per
/// image, keyed by the SHA-256 of the image file's bytes — so a renamed or moved image still
/// hits and an edited one misses.
///
/// Each entry `<directory>/<first two hex digits>/<sha256>.h5` (`…-hflip.h5` for the
/// features of the horizontally mirrored image) holds the datasets `grid`, `block4`,
/// `block5` (float16 by default, ~17 MB per image; a group whose values exceed float16's
/// range is stored as float32) and `global`, and the attributes `format`, `feature_rule`
/// (``FeatureGrid/ruleName``), `weights_sha256` (the backbone weights file's digest),
/// `image_sha256`, `flipped` and `source_image`.
///
/// A hit is validated: an entry written by another feature rule or other backbone weights
/// is recomputed and replaced, never used; an unreadable or damaged entry likewise (both are
/// reported through ``log``). Entries are written atomically, so concurrent users and
/// crashes never leave half a file under an entry's name. Nothing is kept in memory.
///
/// ```swift
/// let cache = try FeatureCache(directory: "cache/features", weightsAt: weightsPath)
/// let extractor = try HypercolumnExtractor(weightsAt: weightsPath)
/// let compact = try cache.features(for: "images/giraffe.jpg", extractor: extractor)
/// ```
public struct FeatureCache: Sendable {
    /// The `format` attribute of entries.
    public static let formatName = "divseg-feature-cache-1"

    /// Where the entries are.
    public let directory: String
    /// SHA-256 of the backbone weights file the features must come from.
    public let weightsSHA256: String
    /// The feature construction rule entries must follow (``FeatureGrid/ruleName``).
    public let featureRule: String
    /// How the three hypercolumn groups are stored (float16 halves the files).
    public var storage: HDF5Storage
    /// Receives one line per notable event: a stale or damaged entry being recomputed.
    public var log: (@Sendable (String) -> Void)?

    /// What a lookup did.
    public enum Outcome: Sendable, Equatable {
        /// A valid entry was read.
        case hit
        /// There was no entry; the features were computed and stored.
        case computed
        /// An entry existed but was stale or damaged (`reason`); recomputed and replaced.
        case recomputed(reason: String)
    }

    /// Counts of a ``precompute(_:extractor:flipped:progress:)`` run.
    public struct Summary: Sendable, Equatable {
        public var hits: Int
        public var computed: Int
        public var recomputed: Int

        public init(hits: Int = 0, computed: Int = 0, recomputed: Int = 0) {
            self.hits = hits
            self.computed = computed
            self.recomputed = recomputed
        }
    }

    /// Why the cache could not be used.
    public enum CacheError: Error, Equatable, CustomStringConvertible {
        /// The cache directory does not exist and cannot be created, or is a file.
        case unusableDirectory(path: String, reason: String)
        /// An image to look up cannot be read (for its digest) or decoded.
        case unreadableImage(path: String, reason: String)
        /// An entry cannot be written.
        case writeFailed(path: String, imagePath: String, reason: String)

        public var description: String {
            switch self {
            case .unusableDirectory(let path, let reason):
                return "The feature cache directory '\(path)' cannot be used: \(reason). Pass a "
                    + "writable directory (it is created if missing)."
            case .unreadableImage(let path, let reason):
                return "The image '\(path)' cannot be read for the feature cache: \(reason). Check "
                    + "that it exists and is a PNG or JPEG file."
            case .writeFailed(let path, let imagePath, let reason):
                return "Storing the features of '\(imagePath)' in the cache file '\(path)' failed: "
                    + "\(reason). Check free space and permissions of the cache directory."
            }
        }
    }

    /// Opens (creating if needed) a cache directory for features of the backbone whose
    /// weights file has digest `weightsSHA256`.
    ///
    /// ```swift
    /// let cache = try FeatureCache(directory: "/tmp/fc", weightsSHA256: digest) { print($0) }
    /// ```
    public init(directory: String, weightsSHA256: String, featureRule: String = FeatureGrid.ruleName,
                storage: HDF5Storage = .float16, log: (@Sendable (String) -> Void)? = nil) throws(CacheError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw .unusableDirectory(path: directory, reason: "it is a file")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .unusableDirectory(path: directory, reason: error.localizedDescription)
            }
        }
        self.directory = directory
        self.weightsSHA256 = weightsSHA256
        self.featureRule = featureRule
        self.storage = storage
        self.log = log
    }

    /// Opens a cache for the backbone loaded from `weightsPath` (its digest is computed,
    /// ~0.3 s for the 58 MB VGG-16 file).
    public init(directory: String, weightsAt weightsPath: String, storage: HDF5Storage = .float16,
                log: (@Sendable (String) -> Void)? = nil) throws {
        try self.init(directory: directory, weightsSHA256: try FileDigest.sha256(ofFileAt: weightsPath),
                      storage: storage, log: log)
    }

    /// The features of an image: read from the cache when a valid entry exists, otherwise
    /// computed with `extractor` (whose weights must be the ones the cache was opened for)
    /// and stored.
    ///
    /// ```swift
    /// let compact = try cache.features(for: sample.imagePath, extractor: extractor)
    /// ```
    public func features(for imagePath: String, extractor: HypercolumnExtractor,
                         flipped: Bool = false) throws -> CompactHypercolumns {
        try lookup(imagePath, extractor: extractor, flipped: flipped).features
    }

    /// Like ``features(for:extractor:flipped:)``, and says whether it hit.
    public func lookup(_ imagePath: String, extractor: HypercolumnExtractor,
                       flipped: Bool = false) throws -> (features: CompactHypercolumns, outcome: Outcome) {
        let digest = try imageDigest(imagePath)
        let entry = entryPath(digest: digest, flipped: flipped)
        var outcome = Outcome.computed
        switch read(entry, digest: digest, flipped: flipped) {
        case .valid(let features?):
            return (features, .hit)
        case .valid(nil):
            preconditionFailure("a full read returns the features")
        case .missing:
            break
        case .invalid(let reason):
            log?("feature cache: \(entry) (for '\(imagePath)') \(reason); recomputing")
            outcome = .recomputed(reason: reason)
        }
        var image: Image
        do {
            image = try ImageDecoder.decodeRGB(contentsOf: imagePath)
        } catch {
            throw CacheError.unreadableImage(path: imagePath, reason: error.description)
        }
        if flipped { image = Self.mirrored(image) }
        let features = extractor.extractCompact(from: image)
        try write(features, to: entry, digest: digest, flipped: flipped, source: imagePath)
        return (features, outcome)
    }

    /// The cached features of an image, or nil when there is no valid entry (nothing is
    /// computed or written).
    public func cachedFeatures(for imagePath: String, flipped: Bool = false) throws -> CompactHypercolumns? {
        let digest = try imageDigest(imagePath)
        if case .valid(let features?) = read(entryPath(digest: digest, flipped: flipped), digest: digest,
                                             flipped: flipped) {
            return features
        }
        return nil
    }

    /// The entry file an image's features are (or would be) stored in.
    public func entryPath(for imagePath: String, flipped: Bool = false) throws -> String {
        entryPath(digest: try imageDigest(imagePath), flipped: flipped)
    }

    /// Makes sure every image has a valid entry, computing the missing and stale ones; one
    /// image at a time, so memory stays at one image's features. `progress` gets (done, total).
    ///
    /// ```swift
    /// let summary = try cache.precompute(paths, extractor: extractor) { done, total in
    ///     print("\(done)/\(total)")
    /// }
    /// ```
    @discardableResult
    public func precompute(_ imagePaths: [String], extractor: HypercolumnExtractor, flipped: Bool = false,
                           progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Summary {
        var summary = Summary()
        for (index, path) in imagePaths.enumerated() {
            let digest = try imageDigest(path)
            let entry = entryPath(digest: digest, flipped: flipped)
            // Validate without converting the stored groups: a cheap header check first.
            if case .valid = read(entry, digest: digest, flipped: flipped, headerOnly: true) {
                summary.hits += 1
            } else {
                switch try lookup(path, extractor: extractor, flipped: flipped).outcome {
                case .hit: summary.hits += 1
                case .computed: summary.computed += 1
                case .recomputed: summary.recomputed += 1
                }
            }
            progress?(index + 1, imagePaths.count)
        }
        return summary
    }

    // MARK: - Internals

    private enum ReadResult {
        /// The features (nil when only the header was checked).
        case valid(CompactHypercolumns?)
        case missing
        case invalid(reason: String)
    }

    private static let shapes: [(name: String, shape: [Int])] = [
        ("grid", [1152, FeatureGrid.height, FeatureGrid.width]),
        ("block4", [1536, FeatureGrid.height / 2, FeatureGrid.width / 2]),
        ("block5", [1536, FeatureGrid.height / 4, FeatureGrid.width / 4]),
    ]

    private func imageDigest(_ imagePath: String) throws(CacheError) -> String {
        do {
            return try FileDigest.sha256(ofFileAt: imagePath)
        } catch {
            throw .unreadableImage(path: imagePath, reason: "\(error)")
        }
    }

    private func entryPath(digest: String, flipped: Bool) -> String {
        "\(directory)/\(digest.prefix(2))/\(digest)\(flipped ? "-hflip" : "").h5"
    }

    private func read(_ entry: String, digest: String, flipped: Bool, headerOnly: Bool = false) -> ReadResult {
        guard FileManager.default.fileExists(atPath: entry) else { return .missing }
        do {
            let file = try HDF5File.open(entry)
            defer { file.close() }
            for attribute in ["format", "feature_rule", "weights_sha256", "image_sha256", "flipped"]
            where !file.hasAttribute(attribute) {
                return .invalid(reason: "has no '\(attribute)' attribute")
            }
            let format = try file.stringAttribute("format")
            guard format == Self.formatName else { return .invalid(reason: "has format '\(format)'") }
            let rule = try file.stringAttribute("feature_rule")
            guard rule == featureRule else {
                return .invalid(reason: "was built by feature rule '\(rule)', not '\(featureRule)'")
            }
            let weights = try file.stringAttribute("weights_sha256")
            guard weights == weightsSHA256 else {
                return .invalid(reason: "was built with backbone weights \(weights.prefix(12))…, not \(weightsSHA256.prefix(12))…")
            }
            guard try file.stringAttribute("image_sha256") == digest,
                  try file.stringAttribute("flipped") == (flipped ? "yes" : "no") else {
                return .invalid(reason: "belongs to another image")
            }
            for (name, shape) in Self.shapes {
                guard file.contains(name) else { return .invalid(reason: "has no '\(name)' dataset") }
                let found = try file.shape(of: name)
                guard found == shape else { return .invalid(reason: "has '\(name)' of shape \(found), not \(shape)") }
            }
            guard file.contains("global") else { return .invalid(reason: "has no 'global' dataset") }
            if headerOnly { return .valid(nil) }
            let groups = try Self.shapes.map { name, shape in
                Tensor(shape: shape, scalars: try file.readFloats(name).values)
            }
            let global = try file.readFloats("global").values
            for group in groups where !group.scalars.allSatisfy(\.isFinite) {
                return .invalid(reason: "holds values that are not finite")
            }
            return .valid(CompactHypercolumns(grid: groups[0], block4: groups[1], block5: groups[2], global: global))
        } catch let error as HDF5Error {
            return .invalid(reason: "is unreadable (\(error.description))")
        } catch {
            return .invalid(reason: "is unreadable (\(error))")
        }
    }

    private func write(_ features: CompactHypercolumns, to entry: String, digest: String, flipped: Bool,
                       source: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: (entry as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try HDF5File.writeAtomically(to: entry) { file in
                for (name, tensor) in [("grid", features.grid), ("block4", features.block4),
                                       ("block5", features.block5)] {
                    // float16 tops out at 65504; a group beyond that keeps full precision.
                    let fits = storage == .float32 || tensor.scalars.allSatisfy { abs($0) <= 65504 }
                    try file.writeFloats(name, tensor.scalars, shape: tensor.shape, storage: fits ? storage : .float32)
                }
                try file.writeFloats("global", features.global, shape: [features.global.count])
                try file.setStringAttribute("format", Self.formatName)
                try file.setStringAttribute("feature_rule", featureRule)
                try file.setStringAttribute("weights_sha256", weightsSHA256)
                try file.setStringAttribute("image_sha256", digest)
                try file.setStringAttribute("flipped", flipped ? "yes" : "no")
                try file.setStringAttribute("source_image", source)
            }
        } catch let error as HDF5Error {
            throw CacheError.writeFailed(path: entry, imagePath: source, reason: error.description)
        } catch {
            throw CacheError.writeFailed(path: entry, imagePath: source, reason: error.localizedDescription)
        }
    }

    /// The image mirrored left to right.
    static func mirrored(_ image: Image) -> Image {
        var pixels = image.pixels
        let c = image.channels, w = image.width
        for y in 0..<image.height {
            let row = y * w * c
            for x in 0..<w {
                for k in 0..<c { pixels[row + x * c + k] = image.pixels[row + (w - 1 - x) * c + k] }
            }
        }
        return Image(width: w, height: image.height, channels: c, pixels: pixels)
    }
}
