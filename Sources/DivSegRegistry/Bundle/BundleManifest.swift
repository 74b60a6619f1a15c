import DivSeg
import DivSegIO
import Foundation
import DivSegDatasets

/// `manifest.json` of a class bundle (BundlesAndRegistries.md): who the class is, which localizer file
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
        /// The localizer's training objective as written by ``ClassLocalizer/lossName``:
        /// "global-softmax" or "pixel-softmax" (the paper's MLP, ``LocalizerLoss``), or
        /// "average-pooled" (the CAM-style ``AveragePooledLocalizer``).
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
    /// that a newer manifest is reported as such rather than as a decoding failure. Whole-number
    /// fields are checked for type and range, and the class name and aliases against
    /// ``ClassNameRule``, so that a bad value is reported by field, with what was found and
    /// what is allowed.
    public static func read(from path: String) throws -> BundleManifest {
        let data: Data
        // Regular files only, size-checked: a FIFO manifest must not hang a whole registry.
        do throws(FileAccessError) { data = Data(try RegularFile.readAll(path, limit: maxFileBytes)) } catch {
            let owner = (path as NSString).deletingLastPathComponent
            if case .notFound = error { throw BundleError.missingFile(bundle: owner, file: "manifest.json") }
            throw BundleError.badManifest(bundle: owner, detail: "manifest.json: \(error.reason)")
        }
        let bundle = (path as NSString).deletingLastPathComponent
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw BundleError.badManifest(bundle: bundle, detail: "not a JSON object")
        }
        guard let rawSchema = object["schemaVersion"] else {
            throw BundleError.badManifest(bundle: bundle, detail: "no schemaVersion")
        }
        if let problem = wholeNumberProblem(rawSchema, field: "schemaVersion", range: 1...1_000_000) {
            throw BundleError.badManifest(bundle: bundle, detail: problem)
        }
        let schema = Int((rawSchema as! NSNumber).doubleValue)
        guard supportedSchemaVersions.contains(schema) else {
            throw BundleError.unsupportedSchema(bundle: bundle, version: schema, supported: supportedSchemaVersions)
        }
        for (field, range) in wholeNumberFields {
            let keys = field.split(separator: ".").map(String.init)
            var value: Any? = object
            for key in keys { value = (value as? [String: Any])?[key] }
            // A missing or null field is reported by the decoder (or is optional).
            guard let value, !(value is NSNull) else { continue }
            if let problem = wholeNumberProblem(value, field: field, range: range) {
                throw BundleError.badManifest(bundle: bundle, detail: problem)
            }
        }
        let manifest: BundleManifest
        do {
            manifest = try JSONDecoder().decode(BundleManifest.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw BundleError.badManifest(bundle: bundle, detail: "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'")
        } catch let DecodingError.typeMismatch(type, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw BundleError.badManifest(bundle: bundle, detail: "field '\(field)' has the wrong type (expected \(typeName(type)))")
        } catch let DecodingError.valueNotFound(type, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw BundleError.badManifest(bundle: bundle, detail: "field '\(field)' is null (expected \(typeName(type)))")
        } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw BundleError.badManifest(bundle: bundle, detail: field.isEmpty ? context.debugDescription : "field '\(field)' has an unusable value (\(context.debugDescription))")
        } catch {
            throw BundleError.badManifest(bundle: bundle, detail: "\(error)")
        }
        if let problem = ClassNameRule.problem(name: manifest.name) {
            let hint = ClassNameRule.suggestion(for: manifest.name).map { " (e.g. '\($0)')" } ?? ""
            throw BundleError.badManifest(bundle: bundle, detail: "the class name '\(manifest.name)' is not allowed: \(problem). A class name is \(ClassNameRule.summary)\(hint)")
        }
        for alias in manifest.aliases {
            if let problem = ClassNameRule.problem(alias: ClassNames.normalize(alias)) {
                throw BundleError.badManifest(bundle: bundle, detail: "the alias '\(alias)' is not allowed: \(problem). An alias is \(ClassNameRule.summary), with single spaces between words allowed")
            }
        }
        return manifest
    }

    /// Whole-number fields (dotted paths) and the values they may take.
    static let wholeNumberFields: [(String, ClosedRange<Double>)] = [
        ("preferredLabel", 1...254),
        ("localizer.inputChannels", 1...1_000_000),
        ("localizer.hiddenUnits", 0...1_000_000),
        ("training.positives", 0...1e12),
        ("training.negatives", 0...1e12),
        ("training.epochs", 0...1e12),
        ("training.heldOutImages", 0...1e12),
        ("training.seed", 0...18446744073709551615.0),
    ]

    /// What is wrong with a JSON value that must be a whole number in `range`, or nil.
    static func wholeNumberProblem(_ value: Any, field: String, range: ClosedRange<Double>) -> String? {
        let allowed = "a whole number from \(format(range.lowerBound)) to \(format(range.upperBound))"
        // (No Bool test: a bridged NSNumber 0 or 1 may pass for one; the decoder reports
        // a real boolean as the wrong type.)
        guard !(value is String), let number = value as? NSNumber else {
            return "field '\(field)' is \(describe(value)); expected \(allowed)"
        }
        let d = number.doubleValue
        guard d.isFinite, d == d.rounded(), range.contains(d) else {
            return "field '\(field)' is \(number); expected \(allowed)"
        }
        return nil
    }

    private static func format(_ d: Double) -> String {
        d == 18446744073709551615.0 ? "2^64-1" : String(format: "%.0f", d)
    }

    private static func describe(_ value: Any) -> String {
        switch value {
        case let s as String: return "the string \"\(s)\""
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        default: return "'\(value)'"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Float.Type, is Double.Type: return "a number"
        case is [String].Type: return "a list of strings"
        case is [Int].Type: return "a list of whole numbers"
        default: return "\(type)"
        }
    }

    /// Pretty-printed JSON with sorted keys (stable diffs).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
