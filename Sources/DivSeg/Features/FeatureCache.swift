import DivSegCore
import DivSegIO
import Foundation

/// A directory of precomputed image features (``CompactHypercolumns``), one HDF5 file per
/// image, keyed by the SHA-256 of the image file's bytes — so a renamed or moved image still
/// hits and an edited one misses.
///
/// Each entry `<directory>/<first two hex digits>/<sha256>.h5` (`…-hflip.h5` for the
/// features of the horizontally mirrored image) holds the datasets `grid`, `block4`,
/// `block5` and `global`, and the attributes `format`, `feature_rule`
/// (``FeatureGrid/ruleName``), `weights_sha256` (the backbone weights file's digest),
/// `image_sha256`, `flipped` and `source_image`. The groups are stored at half precision by
/// default (~17 MB per image): IEEE binary16 values packed two per float32 element (dataset
/// attribute `encoding = "float16-pairs"`, shape `[C, H·W/2]`; numpy:
/// `f["grid"][()].view(np.float16).reshape(1152, 64, 84)`), because HDF5 1.10 converts real
/// float16 datasets in software at ~0.45 s per image while this reads in ~25 ms. A group
/// with values beyond float16's range (±65504) is stored as plain float32 (`encoding =
/// "float32"`). A lookup returns the features exactly as stored, so a miss and a later hit
/// give bit-identical values (and training on them is reproducible either way).
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
    /// The cache folder when neither a path nor ``environmentVariable`` names one, relative
    /// to the working directory.
    public static let defaultDirectory = ".divseg-cache/features"
    /// The environment variable that names the cache folder of a machine or job.
    public static let environmentVariable = "DIVSEG_CACHE"

    /// `$DIVSEG_CACHE` when set and not empty, else ``defaultDirectory``.
    public static func configuredDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let configured = environment[environmentVariable], !configured.isEmpty { return configured }
        return defaultDirectory
    }

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

        /// Counts one lookup's outcome.
        public mutating func count(_ outcome: Outcome) {
            switch outcome {
            case .hit: hits += 1
            case .computed: computed += 1
            case .recomputed: recomputed += 1
            }
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
                    + "the path and permissions; images must be PNG or JPEG files."
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

    /// Opens a cache for the backbone loaded from `weightsPath`. Its digest is computed
    /// (~0.1–0.3 s for the 58 MB VGG-16 file) or, while the file is unchanged since it was
    /// hashed, taken from the cache folder's ``digestMemo(inCacheAt:)``.
    public init(directory: String, weightsAt weightsPath: String, storage: HDF5Storage = .float16,
                log: (@Sendable (String) -> Void)? = nil) throws {
        try self.init(directory: directory,
                      weightsSHA256: try Self.digestMemo(inCacheAt: directory).sha256(ofFileAt: weightsPath),
                      storage: storage, log: log)
    }

    /// The digests of weights files remembered in a cache folder (its `file-digests`
    /// sub-folder; see ``FileDigestMemo`` for when a remembered digest is trusted).
    public static func digestMemo(inCacheAt directory: String) -> FileDigestMemo {
        FileDigestMemo(directory: directory + "/file-digests")
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
        let found = read(entry, digest: digest, flipped: flipped)
        if case .valid(let features) = found {
            guard let features else { preconditionFailure("a full read returns the features") }
            return (features, .hit)
        }
        let outcome = found.missOutcome(entry: entry, imagePath: imagePath, log: log)
        var image: Image
        do {
            image = try ImageDecoder.decodeRGB(contentsOf: imagePath)
        } catch {
            throw CacheError.unreadableImage(path: imagePath, reason: error.description)
        }
        if flipped { image = Self.mirrored(image) }
        let features = try write(extractor.extractCompact(from: image), to: entry, digest: digest,
                                 flipped: flipped, source: imagePath)
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
                summary.count(try lookup(path, extractor: extractor, flipped: flipped).outcome)
            }
            progress?(index + 1, imagePaths.count)
        }
        return summary
    }

    // MARK: - Internals

    /// What reading a cache entry found: its value, nothing, or an entry that must be replaced.
    enum EntryRead<Value> {
        case valid(Value)
        case missing
        case invalid(reason: String)

        /// The outcome of the computation that replaces a read that did not hit; an invalid
        /// entry is logged (through `log`) as being recomputed.
        func missOutcome(entry: String, imagePath: String, log: (@Sendable (String) -> Void)?) -> Outcome {
            guard case .invalid(let reason) = self else { return .computed }
            log?("feature cache: \(entry) (for '\(imagePath)') \(reason); recomputing")
            return .recomputed(reason: reason)
        }
    }

    /// A full entry read: the features (nil when only the header was checked).
    typealias ReadResult = EntryRead<CompactHypercolumns?>

    static let shapes: [(name: String, shape: [Int])] = [
        ("grid", CompactHypercolumns.gridShape),
        ("block4", CompactHypercolumns.block4Shape),
        ("block5", CompactHypercolumns.block5Shape),
    ]

    func imageDigest(_ imagePath: String) throws(CacheError) -> String {
        do {
            return try FileDigest.sha256(ofFileAt: imagePath)
        } catch let error as FileDigest.DigestError {
            // Only what is wrong: the digest error's own text repeats the path and the advice.
            let reason: String
            switch error {
            case .notRegularFile(_, let kind): reason = "it is \(kind), not a regular file"
            case .unreadable:
                reason = FileManager.default.fileExists(atPath: imagePath) ? "it cannot be opened for reading" : "there is no such file"
            }
            throw .unreadableImage(path: imagePath, reason: reason)
        } catch {
            throw .unreadableImage(path: imagePath, reason: "\(error)")
        }
    }

    func entryPath(digest: String, flipped: Bool) -> String {
        "\(directory)/\(digest.prefix(2))/\(digest)\(flipped ? "-hflip" : "").h5"
    }

    /// Writes an entry atomically (full or state: its `format`), with the header that
    /// ``headerProblem(_:format:digest:flipped:)`` checks.
    func writeEntry(_ path: String, format: String, groups: [(name: String, group: EncodedGroup)], global: [Float],
                    digest: String, flipped: Bool, source: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try HDF5File.writeAtomically(to: path) { file in
                for (name, group) in groups {
                    try file.writeFloats(name, group.stored, shape: group.shape, storage: .float32)
                    try file.setStringAttribute("encoding", group.encoding, of: name)
                }
                try file.writeFloats("global", global, shape: [global.count])
                try file.setStringAttribute("format", format)
                try file.setStringAttribute("feature_rule", featureRule)
                try file.setStringAttribute("weights_sha256", weightsSHA256)
                try file.setStringAttribute("image_sha256", digest)
                try file.setStringAttribute("flipped", flipped ? "yes" : "no")
                try file.setStringAttribute("source_image", source)
            }
        } catch let error as HDF5Error {
            throw CacheError.writeFailed(path: path, imagePath: source, reason: error.description)
        } catch {
            throw CacheError.writeFailed(path: path, imagePath: source, reason: error.localizedDescription)
        }
    }

    /// Why an entry's header (format, feature rule, weights, image, mirroring) does not fit
    /// this cache and image, nil when it does; shared by full and state entries.
    func headerProblem(_ file: HDF5File, format expectedFormat: String, digest: String, flipped: Bool) throws -> String? {
        for attribute in ["format", "feature_rule", "weights_sha256", "image_sha256", "flipped"]
        where !file.hasAttribute(attribute) {
            return "has no '\(attribute)' attribute"
        }
        let format = try file.stringAttribute("format")
        guard format == expectedFormat else { return "has format '\(format)'" }
        let rule = try file.stringAttribute("feature_rule")
        guard rule == featureRule else { return "was built by feature rule '\(rule)', not '\(featureRule)'" }
        let weights = try file.stringAttribute("weights_sha256")
        guard weights == weightsSHA256 else {
            return "was built with backbone weights \(weights.prefix(12))…, not \(weightsSHA256.prefix(12))…"
        }
        guard try file.stringAttribute("image_sha256") == digest,
              try file.stringAttribute("flipped") == (flipped ? "yes" : "no") else {
            return "belongs to another image"
        }
        return nil
    }

    func read(_ entry: String, digest: String, flipped: Bool, headerOnly: Bool = false) -> ReadResult {
        guard FileManager.default.fileExists(atPath: entry) else { return .missing }
        do {
            let file = try HDF5File.open(entry)
            defer { file.close() }
            if let reason = try headerProblem(file, format: Self.formatName, digest: digest, flipped: flipped) {
                return .invalid(reason: reason)
            }
            for (name, shape) in Self.shapes {
                guard file.contains(name) else { return .invalid(reason: "has no '\(name)' dataset") }
                guard file.hasAttribute("encoding", of: name) else {
                    return .invalid(reason: "has no 'encoding' attribute on '\(name)'")
                }
                let encoding = try file.stringAttribute("encoding", of: name)
                guard let stored = Self.storedShape(shape, encoding: encoding) else {
                    return .invalid(reason: "has '\(name)' in the unknown encoding '\(encoding)'")
                }
                let found = try file.shape(of: name)
                guard found == stored else { return .invalid(reason: "has '\(name)' of shape \(found), not \(stored)") }
            }
            guard file.contains("global") else { return .invalid(reason: "has no 'global' dataset") }
            if headerOnly { return .valid(nil) }
            let groups = try Self.shapes.map { name, shape in try Self.readGroup(file, name, shape: shape) }
            let global = try file.readFloats("global").values
            for (group, (name, _)) in zip(groups, Self.shapes) where FiniteCheck.firstNonFinite(group.scalars) != nil {
                return .invalid(reason: "holds a NaN or infinite value in '\(name)'")
            }
            // The global descriptor feeds the segmenter directly: one bad value there would
            // shift every prediction for the image.
            guard !global.isEmpty else { return .invalid(reason: "has an empty 'global' dataset") }
            if FiniteCheck.firstNonFinite(global) != nil {
                return .invalid(reason: "holds a NaN or infinite value in 'global'")
            }
            return .valid(CompactHypercolumns(grid: groups[0], block4: groups[1], block5: groups[2], global: global))
        } catch let error as HDF5Error {
            return .invalid(reason: "is unreadable (\(error.description))")
        } catch {
            return .invalid(reason: "is unreadable (\(error))")
        }
    }

    /// Stores the features and returns them as a later read will: rounded to half precision
    /// when stored that way, so that a miss and a hit give bit-identical features.
    private func write(_ features: CompactHypercolumns, to entry: String, digest: String, flipped: Bool,
                       source: String) throws -> CompactHypercolumns {
        let groups = [features.grid, features.block4, features.block5].map { Self.encode($0, storage: storage) }
        try writeEntry(entry, format: Self.formatName, groups: Array(zip(["grid", "block4", "block5"], groups)),
                       global: features.global, digest: digest, flipped: flipped, source: source)
        return CompactHypercolumns(grid: groups[0].rounded, block4: groups[1].rounded, block5: groups[2].rounded,
                                   global: features.global)
    }

    // MARK: - Half-precision encoding

    /// Encoding of a group whose values are IEEE binary16, two per stored float32: element
    /// 2i in the low 16 bits, 2i + 1 in the high ones (little-endian order, so numpy reads
    /// it with `.view(np.float16)`). HDF5 1.10 converts real float16 datasets in software at
    /// ~55 ns per value (0.45 s per image); this reads at memory speed and converts by table.
    static let halfPairs = "float16-pairs"
    /// Encoding of a group stored as plain float32 `[C, H, W]`.
    static let plainFloat32 = "float32"

    /// The dataset shape a group of `shape` `[C, H, W]` is stored with.
    static func storedShape(_ shape: [Int], encoding: String) -> [Int]? {
        switch encoding {
        case halfPairs: return [shape[0], shape[1] * shape[2] / 2]
        case plainFloat32: return shape
        default: return nil
        }
    }

    struct EncodedGroup {
        var stored: [Float]
        var shape: [Int]
        var encoding: String
        var rounded: Tensor
    }

    /// float16 pairs when asked for and every value fits (|x| ≤ 65504), else plain float32.
    static func encode(_ tensor: Tensor, storage: HDF5Storage) -> EncodedGroup {
        let fits = storage == .float16 && tensor.rank == 3 && (tensor.shape[1] * tensor.shape[2]) % 2 == 0
            && tensor.scalars.allSatisfy { $0.isFinite && abs($0) <= 65504 }
        guard fits else {
            return EncodedGroup(stored: tensor.scalars, shape: tensor.shape, encoding: plainFloat32, rounded: tensor)
        }
        let pairs = tensor.count / 2
        let stored = [Float](unsafeUninitializedCapacity: pairs) { out, initialized in
            tensor.scalars.withUnsafeBufferPointer { x in
                let (x, out) = (x.baseAddress!, out.baseAddress!)
                Parallel.forEachChunk(of: 0..<pairs, minimumChunk: 4096) { range in
                    for i in range {
                        let low = UInt32(halfBits(x[2 * i])), high = UInt32(halfBits(x[2 * i + 1]))
                        out[i] = Float(bitPattern: low | high << 16)
                    }
                }
            }
            initialized = pairs
        }
        let shape = storedShape(tensor.shape, encoding: halfPairs)!
        return EncodedGroup(stored: stored, shape: shape, encoding: halfPairs,
                            rounded: Tensor(shape: tensor.shape, scalars: decode(stored, count: tensor.count)))
    }

    static func readGroup(_ file: HDF5File, _ name: String, shape: [Int]) throws -> Tensor {
        let encoding = try file.stringAttribute("encoding", of: name)
        let values = try file.readFloats(name).values
        if encoding == plainFloat32 { return Tensor(shape: shape, scalars: values) }
        return Tensor(shape: shape, scalars: decode(values, count: shape.reduce(1, *)))
    }

    /// Unpacks `count` half-precision values from pairs.
    static func decode(_ pairs: [Float], count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            halfTable.withUnsafeBufferPointer { table in
                pairs.withUnsafeBufferPointer { p in
                    let (table, p, out) = (table.baseAddress!, p.baseAddress!, out.baseAddress!)
                    Parallel.forEachChunk(of: 0..<(count / 2), minimumChunk: 4096) { range in
                        for i in range {
                            let bits = p[i].bitPattern
                            out[2 * i] = table[Int(bits & 0xFFFF)]
                            out[2 * i + 1] = table[Int(bits >> 16)]
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// The float value of every binary16 bit pattern.
    static let halfTable: [Float] = (0..<65536).map { halfValue(UInt16($0)) }

    /// The value of a binary16 bit pattern (exact).
    static func halfValue(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F, mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2⁻²⁴, exact in binary32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        case 31:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// binary32 → binary16 bits, rounded to nearest, ties to even; beyond 65504 → infinity.
    static func halfBits(_ f: Float) -> UInt16 {
        let x = f.bitPattern
        let sign = UInt16(truncatingIfNeeded: (x >> 16) & 0x8000)
        let a = x & 0x7FFF_FFFF
        if a >= 0x7F80_0000 { return sign | (a > 0x7F80_0000 ? 0x7E00 : 0x7C00) }   // NaN, infinity
        if a >= 0x4780_0000 { return sign | 0x7C00 }                                  // ≥ 2¹⁶
        if a < 0x3880_0000 {                                                          // below 2⁻¹⁴
            if a < 0x3300_0000 { return sign }                                        // ≤ 2⁻²⁵ rounds to 0
            let e = a >> 23, m = (a & 0x7F_FFFF) | 0x80_0000
            let shift = 126 - e
            var q = m >> shift
            let rest = m & ((1 << shift) - 1), half = UInt32(1) << (shift - 1)
            if rest > half || (rest == half && q & 1 == 1) { q += 1 }
            return sign | UInt16(q)
        }
        var h = (a >> 13) &- (112 << 10)
        let rest = a & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) { h += 1 }                // a carry may reach infinity
        return sign | UInt16(h)
    }

    /// The image mirrored left to right.
    @_spi(Testing) public static func mirrored(_ image: Image) -> Image {
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
