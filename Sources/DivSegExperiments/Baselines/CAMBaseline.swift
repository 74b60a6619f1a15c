import DivSegCore
import DivSegIO
import Foundation

/// The class activation map (CAM) peer (TheMethod.md, "Localizers"): the simple method a user would pick
/// instead of the paper's, which the paper's method has to beat.
///
/// - **Classifier**: a multi-label linear classifier (an independent sigmoid per class) on
///   the globally averaged block5_conv3 features (512 values; channels 1024..<1536 of
///   ``CompactHypercolumns/block5``, 16×21), each channel multiplied by a fixed
///   ``inputScale`` (1 / its RMS over the training images). Trained by ``CAMTrainer``.
/// - **Class maps**: class c's weights applied to the (scaled) block5_conv3 vector at each of
///   the 16×21 locations — the bias left out, as in CAM — divided by the map's maximum over
///   the image when that maximum is positive (a map with no positive value is left as is:
///   it stays below every positive threshold), times the image-level probability σ(logit_c).
/// - **Prediction**: the maps resized bilinearly to the image size, then per pixel the
///   strongest class, or background where every class map is below ``threshold`` (the
///   rule of ``ThresholdSearch/labels(classMaps:threshold:height:width:)``). All classes
///   compete: tags are unknown at test time.
///
/// Label `i + 1` is `classes[i]`, 0 background (as ``DatasetSample/groundTruth(classes:)``).
///
/// ```swift
/// let (cam, report) = try CAMTrainer().train(samples: train.samples, classes: ClassNames.voc) {
///     try cache.features(for: $0, extractor: extractor)
/// }
/// let labels = try cam.predict(features: compact, imageSize: (width: 640, height: 480))
/// try cam.save(to: "out/cam.json")
/// ```
public struct CAMBaseline: Sendable, Equatable, Codable {
    /// The `format` field of saved baselines.
    public static let formatName = "divseg-cam-baseline-1"
    /// block5_conv3's channels within ``CompactHypercolumns/block5``.
    public static let block5Conv3Channels = CompactHypercolumns.block5Conv3Channels

    /// Foreground classes; label `i + 1` is `classes[i]`.
    public let classes: [String]
    /// Classifier weights `[classes.count, 512]`, row-major, acting on scaled features.
    public let weights: [Float]
    /// Classifier bias, one per class.
    public let bias: [Float]
    /// Per-channel input scale (512): 1 / RMS of the pooled feature over the training images.
    public let inputScale: [Float]
    /// Background threshold on the class maps (chosen on training images by ``CAMTrainer``).
    public var threshold: Float
    /// The hypercolumn construction rule the features came from (``FeatureGrid/ruleName``).
    public let featureRule: String

    /// Feature channels the classifier reads (block5_conv3's 512).
    public var featureChannels: Int { inputScale.count }

    /// A CAM baseline from its parameters.
    ///
    /// - Throws: ``BaselineError/invalidClasses(detail:)``, or
    ///   ``BaselineError/invalidSetting(name:value:requirement:)`` when the arrays do not fit
    ///   together or hold values that are not finite.
    public init(classes: [String], weights: [Float], bias: [Float], inputScale: [Float],
                threshold: Float, featureRule: String = FeatureGrid.ruleName) throws(BaselineError) {
        try BaselineError.validate(classes: classes)
        let k = Self.block5Conv3Channels.count
        func invalid(_ name: String, _ value: String, _ requirement: String) -> BaselineError {
            .invalidSetting(name: name, value: value, requirement: requirement)
        }
        guard inputScale.count == k else { throw invalid("inputScale", "\(inputScale.count) values", "\(k) values") }
        guard weights.count == classes.count * k else {
            throw invalid("weights", "\(weights.count) values", "[\(classes.count), \(k)] = \(classes.count * k) values")
        }
        guard bias.count == classes.count else {
            throw invalid("bias", "\(bias.count) values", "\(classes.count) values (one per class)")
        }
        guard (weights + bias).allSatisfy(\.isFinite) else { throw invalid("weights", "not finite", "finite") }
        guard inputScale.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw invalid("inputScale", "not finite and positive", "finite and positive")
        }
        guard threshold.isFinite else { throw invalid("threshold", "\(threshold)", "finite") }
        self.classes = classes
        self.weights = weights
        self.bias = bias
        self.inputScale = inputScale
        self.threshold = threshold
        self.featureRule = featureRule
    }

    // MARK: Features

    /// block5_conv3 of an image, `[512, 16, 21]`.
    ///
    /// - Throws: ``BaselineError/featureMismatch(detail:)`` when `block5` is not `[1536, h, w]`.
    public static func block5Conv3(_ features: CompactHypercolumns) throws(BaselineError) -> Tensor {
        try checkBlock5(features)
        return features.block5Conv3
    }

    private static func checkBlock5(_ features: CompactHypercolumns) throws(BaselineError) {
        let shape = features.block5.shape
        guard shape.count == 3, shape[0] == CompactHypercolumns.block5Channels.count else {
            throw .featureMismatch(detail: "block5 has shape \(shape), expected \(CompactHypercolumns.block5Shape)")
        }
    }

    /// The global average of block5_conv3 (512 values, unscaled): the classifier's input
    /// before ``inputScale``.
    public static func pooledFeatures(_ features: CompactHypercolumns) throws(BaselineError) -> [Float] {
        try checkBlock5(features)
        return features.pooledBlock5Conv3
    }

    // MARK: Inference

    /// The classifier's logits for pooled (unscaled) features.
    public func logits(pooled: [Float]) throws(BaselineError) -> [Float] {
        guard pooled.count == featureChannels else {
            throw .featureMismatch(detail: "\(pooled.count) pooled values, expected \(featureChannels)")
        }
        let k = featureChannels
        return (0..<classes.count).map { c in
            var z = bias[c]
            for j in 0..<k { z += weights[c * k + j] * inputScale[j] * pooled[j] }
            return z
        }
    }

    /// The image-level probability of every class, σ(logit).
    ///
    /// ```swift
    /// let p = try cam.probabilities(compact)     // p[i]: probability that classes[i] is present
    /// ```
    public func probabilities(_ features: CompactHypercolumns) throws(BaselineError) -> [Float] {
        try logits(pooled: Self.pooledFeatures(features)).map(Self.sigmoid)
    }

    /// The class maps on block5's 16×21 grid, `[classes.count, 16, 21]`: raw CAM divided by
    /// its maximum (when positive), times the image-level probability.
    public func classMaps(_ features: CompactHypercolumns) throws(BaselineError) -> Tensor {
        let conv = try Self.block5Conv3(features)
        let (k, h, w) = (conv.shape[0], conv.shape[1], conv.shape[2])
        let (c, n) = (classes.count, h * w)
        // Raw CAM: [C, n] = (W · diag(scale)) [C, k] · F [k, n]. Its mean over the locations
        // plus the bias is the logit (the pooling is linear), so no second pass is needed.
        let folded = (0..<(c * k)).map { weights[$0] * inputScale[$0 % k] }
        var maps = [Float](repeating: 0, count: c * n)
        folded.withUnsafeBufferPointer { a in
            conv.scalars.withUnsafeBufferPointer { b in
                maps.withUnsafeMutableBufferPointer { out in
                    BLAS.gemm(m: c, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n,
                              c: out.baseAddress!, ldc: n)
                }
            }
        }
        for cls in 0..<c {
            let row = (cls * n)..<((cls + 1) * n)
            var sum: Double = 0, peak = -Float.infinity
            for i in row { sum += Double(maps[i]); peak = max(peak, maps[i]) }
            let probability = Self.sigmoid(Float(sum / Double(n)) + bias[cls])
            let factor = peak > 0 ? probability / peak : probability
            for i in row { maps[i] *= factor }
        }
        return Tensor(shape: [c, h, w], scalars: maps)
    }

    /// The segmentation of an image at its original size: label `i + 1` = `classes[i]`,
    /// 0 background; values only in `0…classes.count`.
    ///
    /// ```swift
    /// let labels = try cam.predict(features: compact, imageSize: (width: image.width, height: image.height))
    /// ```
    ///
    /// - Throws: ``BaselineError/featureMismatch(detail:)``, or
    ///   ``BaselineError/invalidSetting(name:value:requirement:)`` for a size that is not positive.
    public func predict(features: CompactHypercolumns, imageSize: (width: Int, height: Int)) throws(BaselineError) -> LabelMap {
        guard imageSize.width > 0, imageSize.height > 0 else {
            throw .invalidSetting(name: "imageSize", value: "\(imageSize.width)×\(imageSize.height)",
                                  requirement: "positive")
        }
        return ThresholdSearch.labels(classMaps: try classMaps(features), threshold: threshold,
                                      height: imageSize.height, width: imageSize.width)
    }

    @inline(__always)
    static func sigmoid(_ z: Float) -> Float {
        z >= 0 ? 1 / (1 + expf(-z)) : expf(z) / (1 + expf(z))
    }

    // MARK: Files

    private enum CodingKeys: String, CodingKey {
        case format, classes, weights, bias, inputScale, threshold, featureRule
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.formatName, forKey: .format)
        try container.encode(classes, forKey: .classes)
        try container.encode(featureRule, forKey: .featureRule)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(inputScale, forKey: .inputScale)
        try container.encode(bias, forKey: .bias)
        try container.encode(weights, forKey: .weights)
    }

    /// Decodes the JSON form, checking the format name and the arrays.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let format = try container.decode(String.self, forKey: .format)
        guard format == Self.formatName else {
            throw DecodingError.dataCorruptedError(forKey: .format, in: container,
                                                   debugDescription: "format is '\(format)', expected '\(Self.formatName)'")
        }
        try self.init(classes: try container.decode([String].self, forKey: .classes),
                      weights: try container.decode([Float].self, forKey: .weights),
                      bias: try container.decode([Float].self, forKey: .bias),
                      inputScale: try container.decode([Float].self, forKey: .inputScale),
                      threshold: try container.decode(Float.self, forKey: .threshold),
                      featureRule: try container.decode(String.self, forKey: .featureRule))
    }

    /// Writes the baseline as JSON (atomically): `format`, `classes`, `featureRule`,
    /// `threshold`, `inputScale` (512), `bias` (C), `weights` (C·512, row-major).
    ///
    /// - Throws: ``BaselineError/fileFailed(path:reason:)``.
    public func save(to path: String) throws(BaselineError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(self) } catch {
            throw .fileFailed(path: path, reason: "it cannot be encoded as JSON (\(error))")
        }
        // Regular files only (never a device), atomically, with the system's reason on failure.
        do throws(FileAccessError) { try RegularFile.writeAtomically(data, to: path) } catch {
            throw .fileFailed(path: path, reason: error.reason)
        }
    }

    /// Loads a baseline written by ``save(to:)``.
    ///
    /// - Parameter expectedRule: the rule the caller's features follow; a baseline trained
    ///   on another rule is refused.
    /// - Throws: ``BaselineError/fileFailed(path:reason:)`` or
    ///   ``BaselineError/malformedFile(path:detail:)``.
    public init(contentsOf path: String, featureRule expectedRule: String = FeatureGrid.ruleName) throws(BaselineError) {
        let data: Data
        do throws(FileAccessError) { data = Data(try RegularFile.readAll(path, limit: 256 << 20)) } catch {
            throw .fileFailed(path: path, reason: error.reason)
        }
        do {
            self = try JSONDecoder().decode(CAMBaseline.self, from: data)
        } catch let error as BaselineError {
            throw .malformedFile(path: path, detail: error.description)
        } catch {
            throw .malformedFile(path: path, detail: "\(error)")
        }
        guard featureRule == expectedRule else {
            throw .malformedFile(path: path, detail: "it was trained on features '\(featureRule)', "
                                 + "but this build computes '\(expectedRule)'")
        }
    }
}

#if canImport(Glibc)
import Glibc
import DivSeg
#endif
