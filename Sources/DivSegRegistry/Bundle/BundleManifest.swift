import DivSegIO
import Foundation

/// `manifest.json` of a class bundle (DESIGN.md §4): who the class is, which localizer file
/// belongs to it (with its hash), which backbone its scores assume, and how it was trained.
///
/// ```swift
/// let manifest = try BundleManifest.read(from: "classes/giraffe/manifest.json")
/// print(manifest.name, manifest.scoreScale, manifest.training.heldOutAccuracy ?? .nan)
/// ```
public struct BundleManifest: Codable, Sendable, Equatable {
    /// Manifest versions this build reads.
    public static let supportedSchemaVersions = [1]
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// Canonical class name (lower case, e.g. "giraffe", "aeroplane").
    public var name: String
    public var displayName: String
    /// Other names of the class in datasets (e.g. COCO "airplane" for "aeroplane").
    public var aliases: [String]
    /// Label id to use if free (the VOC index for VOC classes), else nil.
    public var preferredLabel: Int?
    /// Display colour (RGB) in overlays.
    public var color: [Int]
    public var localizer: LocalizerInfo
    public var backbone: BackboneInfo
    /// s_c: mean over positive training images of max_i F(i); sampling scores are F / s_c.
    public var scoreScale: Float
    public var training: TrainingRecord
    /// ISO 8601 creation time.
    public var created: String
    public var toolVersion: String

    /// The localizer weights file and its architecture.
    public struct LocalizerInfo: Codable, Sendable, Equatable {
        /// File name inside the bundle directory (no directories).
        public var file: String
        public var sha256: String
        public var inputChannels: Int
        public var hiddenUnits: Int
        /// "globalSoftmax" or "pixelSoftmax".
        public var loss: String
        /// "float32" or "float16".
        public var storage: String
        public init(file: String, sha256: String, inputChannels: Int, hiddenUnits: Int, loss: String, storage: String) {
            self.file = file; self.sha256 = sha256; self.inputChannels = inputChannels
            self.hiddenUnits = hiddenUnits; self.loss = loss; self.storage = storage
        }
    }

    /// The feature extractor the localizer was trained on; bundles for another one are refused.
    public struct BackboneInfo: Codable, Sendable, Equatable {
        public var name: String
        public var weightsSHA256: String
        public var featureRule: String
        public init(name: String, weightsSHA256: String, featureRule: String) {
            self.name = name; self.weightsSHA256 = weightsSHA256; self.featureRule = featureRule
        }
    }

    /// How the localizer was trained, for provenance and for judging the bundle's quality.
    ///
    /// It records no machine path: `corpus` is a ``CorpusIdentity`` (`coco:coco-mini`) and
    /// the images are found through ``DataRoots``. Manifests written by earlier builds also
    /// have `dataRoot` (the training machine's absolute folder) and a `corpus` with a path;
    /// they still load — `dataRoot` is ignored and only the folder name of `corpus` is used —
    /// so schema version 1 is kept: everything this build reads has been in version-1
    /// manifests from the start. (Builds from before the change require `dataRoot` and report
    /// newer manifests as missing it; there are none outside this repository's history.)
    public struct TrainingRecord: Codable, Sendable, Equatable {
        /// The corpus the images came from, `kind:folder-name` (e.g. "coco:coco-mini"); see
        /// ``corpusIdentity``. Older manifests hold the dataset spec with its path.
        public var corpus: String
        public var split: String?
        public var positives: Int
        public var negatives: Int
        public var epochs: Int
        public var optimizer: String
        public var learningRate: Float
        public var seed: UInt64
        public var seconds: Double
        public var finalLoss: Float
        public var heldOutImages: Int
        public var heldOutAccuracy: Double?
        public var heldOutAUC: Double?
        public init(corpus: String, split: String?, positives: Int, negatives: Int,
                    epochs: Int, optimizer: String, learningRate: Float, seed: UInt64, seconds: Double,
                    finalLoss: Float, heldOutImages: Int, heldOutAccuracy: Double?, heldOutAUC: Double?) {
            self.corpus = corpus; self.split = split
            self.positives = positives; self.negatives = negatives; self.epochs = epochs
            self.optimizer = optimizer; self.learningRate = learningRate; self.seed = seed
            self.seconds = seconds; self.finalLoss = finalLoss; self.heldOutImages = heldOutImages
            self.heldOutAccuracy = heldOutAccuracy; self.heldOutAUC = heldOutAUC
        }

        /// The corpus's portable identity (also for `corpus` values of older manifests).
        public var corpusIdentity: CorpusIdentity { CorpusIdentity(recorded: corpus) }
    }

    public init(name: String, displayName: String, aliases: [String], preferredLabel: Int?, color: [Int],
                localizer: LocalizerInfo, backbone: BackboneInfo, scoreScale: Float,
                training: TrainingRecord, created: String, toolVersion: String) {
        self.schemaVersion = BundleManifest.currentSchemaVersion
        self.name = name; self.displayName = displayName; self.aliases = aliases
        self.preferredLabel = preferredLabel; self.color = color; self.localizer = localizer
        self.backbone = backbone; self.scoreScale = scoreScale; self.training = training
        self.created = created; self.toolVersion = toolVersion
    }

    /// A manifest is a few kilobytes; anything past this is not one.
    public static let maxFileBytes = 1 << 20

    /// Reads and decodes a manifest; the schema version is checked before anything else so
    /// that a newer manifest is reported as such rather than as a decoding failure.
    public static func read(from path: String) throws -> BundleManifest {
        let data: Data
        // Regular files only, size-checked: a FIFO manifest must not hang a whole registry.
        do throws(FileAccessError) { data = Data(try RegularFile.readAll(path, limit: maxFileBytes)) } catch {
            let owner = (path as NSString).deletingLastPathComponent
            if case .notFound = error { throw BundleError.missingFile(bundle: owner, file: "manifest.json") }
            throw BundleError.badManifest(bundle: owner, detail: "manifest.json: \(error.reason)")
        }
        struct Version: Decodable { var schemaVersion: Int? }
        let bundle = (path as NSString).deletingLastPathComponent
        guard let version = try? JSONDecoder().decode(Version.self, from: data) else {
            throw BundleError.badManifest(bundle: bundle, detail: "not a JSON object")
        }
        guard let schema = version.schemaVersion else {
            throw BundleError.badManifest(bundle: bundle, detail: "no schemaVersion")
        }
        guard supportedSchemaVersions.contains(schema) else {
            throw BundleError.unsupportedSchema(bundle: bundle, version: schema, supported: supportedSchemaVersions)
        }
        do {
            return try JSONDecoder().decode(BundleManifest.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw BundleError.badManifest(bundle: bundle, detail: "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw BundleError.badManifest(bundle: bundle, detail: "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw BundleError.badManifest(bundle: bundle, detail: "\(error)")
        }
    }

    /// Pretty-printed JSON with sorted keys (stable diffs).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
