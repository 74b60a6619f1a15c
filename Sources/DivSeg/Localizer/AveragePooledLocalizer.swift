import DivSegCore
import DivSegIO

/// A CAM-style localizer of one class (TheMethod.md, "Localizers"): a linear classifier on the globally
/// averaged block5_conv3 features (512 channels, each multiplied by a fixed ``inputScale``),
/// trained alone on the class's tags like the paper's localizer, so bundles stay
/// independent plug-ins.
///
/// Average pooling is linear, so the image logit is the mean over locations of the class
/// activation map F(i) = w · (scale ⊙ x_i) plus the bias: every location takes part in the
/// decision, where the paper's max-pooled localizer (``MaxPooledLocalizer``) rewards one location and
/// can learn to classify from context (TheMethod.md, "Localizers" measured it pointing at the object 37 %
/// of the time, against CAM maps that lifted the same pipeline from 6.1 to 12.0 mIoU).
///
/// Scores live on block5's 16×21 grid and are brought to the 64×84 grid with the same
/// bilinear ×4 rule as block5 in the hypercolumn.
///
/// ```swift
/// let (giraffe, report) = try AveragePooledLocalizerTrainer().train(
///     className: "giraffe", positives: p, negativeCandidates: n, features: load)
/// let s = giraffe.score(compact)            // CAM / scoreScale on the 64×84 grid
/// try giraffe.save(to: "classes/giraffe/localizer.h5")
/// ```
public struct AveragePooledLocalizer: Localizer, Equatable {
    /// The `format` attribute of its files.
    public static let formatName = "divseg-cam-localizer-1"
    /// What the `loss` attribute of its files and manifests records.
    public static let objective = LocalizerObjective.averagePooled

    public var className: String
    /// Weights on the scaled block5_conv3 vector (512).
    public let weights: [Float]
    public let bias: Float
    /// Per-channel input scale (512): 1 / RMS of the pooled feature over the training images.
    public let inputScale: [Float]
    /// s_c: the mean over the positive training images of the activation map's maximum.
    public var scoreScale: Float
    /// The hypercolumn rule its features follow (``FeatureGrid/ruleName``).
    public let featureRule: String

    public var objective: LocalizerObjective { Self.objective }
    public var inputChannels: Int { weights.count }
    public var hiddenUnits: Int { 0 }

    /// A localizer from its parameters.
    ///
    /// - Throws: ``LocalizerError/invalidParameters(detail:)`` for arrays that are not 512
    ///   long, values that are not finite, or a scale that is not positive.
    public init(className: String, weights: [Float], bias: Float, inputScale: [Float], scoreScale: Float = 1,
                featureRule: String = FeatureGrid.ruleName) throws(LocalizerError) {
        let k = CompactHypercolumns.block5Conv3Channels.count
        func invalid(_ detail: String) -> LocalizerError { .invalidParameters(detail: detail) }
        guard weights.count == k else { throw invalid("CAM weights hold \(weights.count) values, need \(k)") }
        guard inputScale.count == k else { throw invalid("input scale holds \(inputScale.count) values, need \(k)") }
        guard (weights + [bias]).allSatisfy(\.isFinite) else { throw invalid("a CAM weight or the bias is not finite") }
        guard inputScale.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw invalid("input scale has a value that is not finite and positive")
        }
        guard scoreScale.isFinite && scoreScale > 0 else { throw invalid("scoreScale is \(scoreScale), must be finite and positive") }
        self.className = className
        self.weights = weights
        self.bias = bias
        self.inputScale = inputScale
        self.scoreScale = scoreScale
        self.featureRule = featureRule
    }

    // MARK: Inference

    /// The class activation map on block5's 16×21 grid (bias left out, as in CAM).
    public func activationMap(_ features: CompactHypercolumns) -> [Float] {
        activationMap(conv: features.block5Conv3)
    }

    /// The class activation map from the compact per-image state (the same numbers as from
    /// the full features: the state holds the same block5_conv3 values).
    public func activationMap(_ state: ImageState) -> [Float] {
        activationMap(conv: state.block5Conv3)
    }

    private func activationMap(conv: Tensor) -> [Float] {
        let (k, n) = (conv.shape[0], conv.shape[1] * conv.shape[2])
        let folded = zip(weights, inputScale).map { $0 * $1 }
        var map = [Float](repeating: 0, count: n)
        folded.withUnsafeBufferPointer { w in
            conv.scalars.withUnsafeBufferPointer { x in
                map.withUnsafeMutableBufferPointer { out in
                    BLAS.gemv(transpose: true, rows: k, columns: n, a: x.baseAddress!, lda: n, x: w.baseAddress!,
                              y: out.baseAddress!)
                }
            }
        }
        return map
    }

    /// The image logit: the activation map's mean plus the bias.
    public func logit(_ features: CompactHypercolumns) -> Float {
        let map = activationMap(features)
        return Float(map.reduce(0.0) { $0 + Double($1) } / Double(map.count)) + bias
    }

    public func probability(_ features: CompactHypercolumns) -> Float {
        LogisticRegression.sigmoid(logit(features))
    }

    /// The image logit from the compact state (as ``logit(_:)-(CompactHypercolumns)``).
    public func logit(_ state: ImageState) -> Float {
        let map = activationMap(state)
        return Float(map.reduce(0.0) { $0 + Double($1) } / Double(map.count)) + bias
    }

    /// The image probability from the compact state.
    public func probability(_ state: ImageState) -> Float {
        LogisticRegression.sigmoid(logit(state))
    }

    /// The sampling score on the 64×84 grid: the activation map divided by ``scoreScale``
    /// (``LocalizerScore/foreground``, and for the two background-based kinds, which a
    /// one-output localizer does not have), or for ``LocalizerScore/probability`` the map
    /// divided by its maximum (when positive) times the image probability — the CAM peer's
    /// class map.
    public func score(_ features: CompactHypercolumns, kind: LocalizerScore = .foreground) -> [Float] {
        score(map: activationMap(features), kind: kind)
    }

    /// The sampling score from the compact per-image state: what dense labels need, without
    /// the full hypercolumns (equal to ``score(_:kind:)-(CompactHypercolumns,_)``).
    ///
    /// ```swift
    /// let s = giraffe.score(try cache.state(for: path, extractor: extractor))
    /// ```
    public func score(_ state: ImageState, kind: LocalizerScore = .foreground) -> [Float] {
        score(map: activationMap(state), kind: kind)
    }

    private func score(map activation: [Float], kind: LocalizerScore) -> [Float] {
        var map = activation
        let divisor: Float
        if kind == .probability {
            let mean = Float(map.reduce(0.0) { $0 + Double($1) } / Double(map.count))
            let peak = map.max() ?? 0
            let p = LogisticRegression.sigmoid(mean + bias)
            divisor = peak > 0 ? peak / p : 1 / p
        } else {
            divisor = scoreScale
        }
        for i in map.indices { map[i] /= divisor }
        let block5 = ImageState.block5Conv3Shape
        return Resampler.resize(Tensor(shape: [1, block5[1], block5[2]], scalars: map),
                                height: FeatureGrid.height, width: FeatureGrid.width).scalars
    }

    // MARK: Files

    /// Writes the localizer as HDF5, atomically: datasets `cam/kernel` `[1, 512]`, `cam/bias`
    /// `[1]`, `input_scale` `[512]`; attributes `format`, `class_name`, `loss`,
    /// `hidden_units` (0), `input_channels`, `score_scale`, `feature_rule`. (A few KB: the
    /// storage argument is accepted for the protocol and ignored.)
    public func save(to path: String, storage: HDF5Storage = .float32) throws {
        try HDF5File.writeAtomically(to: path) { file in
            try file.writeFloats("cam/kernel", weights, shape: [1, weights.count])
            try file.writeFloats("cam/bias", [bias], shape: [1])
            try file.writeFloats("input_scale", inputScale, shape: [inputScale.count])
            try file.setStringAttribute("format", Self.formatName)
            try file.setStringAttribute("class_name", className)
            try file.setStringAttribute("loss", Self.objective.rawValue)
            try file.setStringAttribute("feature_rule", featureRule)
            try file.setFloatAttribute("hidden_units", 0)
            try file.setFloatAttribute("input_channels", Float(weights.count))
            try file.setFloatAttribute("score_scale", scoreScale)
        }
    }

    /// Loads a localizer written by ``save(to:storage:)``.
    ///
    /// - Throws: ``LocalizerError`` (malformed file, wrong shapes, other feature rule) or
    ///   ``HDF5Error``.
    public init(contentsOf path: String, featureRule expectedRule: String = FeatureGrid.ruleName) throws {
        let file = try HDF5File.open(path)
        defer { file.close() }
        func malformed(_ detail: String) -> LocalizerError { .malformedFile(path: path, detail: detail) }
        switch try ModelFileHeader.check(file, kind: "localizer", format: Self.formatName,
                                         required: ["score_scale"], featureRule: expectedRule) {
        case .malformed(let detail)?: throw malformed(detail)
        case .featureRule(let found)?:
            throw LocalizerError.incompatibleFeatureRule(path: path, found: found, expected: expectedRule)
        case nil: break
        }
        let k = CompactHypercolumns.block5Conv3Channels.count
        func read(_ name: String, _ expected: [Int]) throws -> [Float] {
            try LocalizerFile.readDataset(name, shape: expected, from: file, path: path)
        }
        do {
            try self.init(className: file.hasAttribute("class_name") ? try file.stringAttribute("class_name") : "",
                          weights: try read("cam/kernel", [1, k]), bias: try read("cam/bias", [1])[0],
                          inputScale: try read("input_scale", [k]), scoreScale: try file.floatAttribute("score_scale"),
                          featureRule: expectedRule)
        } catch let error as LocalizerError {
            if case .invalidParameters(let detail) = error { throw malformed(detail) }
            throw error
        }
    }
}
