import DivSegCore
import DivSegIO

/// Image in, label map out: features → segmenter logits on the 64×84 grid (plus the classes'
/// localizer maps, ``localizerFusion``) → the prediction
/// rules (``PredictionAdjustment``: background bias, small classes removed, the image's tags
/// when known) → bilinear upsampling of the logits to the original size → argmax
/// (TheMethod.md, "Prediction"), or, with `crf` set, softmax → dense CRF (``DenseCRF``) → argmax.
///
/// ```swift
/// var pipeline = SegmentationPipeline(extractor: extractor, segmenter: segmenter,
///                                     channelLabels: registry.channelLabels)
/// let labels = try pipeline.segment(image)        // original size, label ids per pixel
/// try PNGEncoder.write(labels, palette: .voc, to: "out/giraffe.png")
/// let known = try pipeline.segment(image, tags: ["giraffe"])   // only giraffe or background
/// pipeline.crf = DenseCRFParameters()             // refine with the dense CRF from now on
/// pipeline.adjustment = .none                     // the segmenter's plain argmax (the paper's)
/// ```
public struct SegmentationPipeline: Sendable {
    public let extractor: HypercolumnExtractor
    public let segmenter: Segmenter
    /// The label written for each segmenter channel (channel 0 = background = 0).
    public let channelLabels: [UInt8]
    /// When set, ``segment(_:tags:)`` refines the segmenter's upsampled probabilities with a dense
    /// CRF on the image (validated when segmenting).
    public var crf: DenseCRFParameters?
    /// The rules applied to the logits of an image whose tags are not known
    /// (``PredictionAdjustment/untagged`` by default; ``PredictionAdjustment/none`` for the
    /// plain argmax).
    public var adjustment: PredictionAdjustment
    /// The rules applied, after the restriction to its tags, to an image whose tags are given.
    public var taggedAdjustment: PredictionAdjustment
    /// Test-time flip (`segment --tta`): the logits are the mean of the image's own and those of
    /// its mirror image brought back to the image's columns — a second backbone run per image
    /// (issue #11, lever 4; its gain and cost are in docs/RESULTS.md). False by default.
    public var testTimeFlip = false
    /// The classes' localizer maps added to the logits before the rules (``LocalizerFusion``;
    /// a registry's pipelines set it with the default weight); nil: the segmenter's alone.
    public var localizerFusion: LocalizerFusion?

    public init(extractor: HypercolumnExtractor, segmenter: Segmenter, channelLabels: [UInt8]? = nil,
                crf: DenseCRFParameters? = nil, adjustment: PredictionAdjustment = .untagged,
                taggedAdjustment: PredictionAdjustment = .tagged) {
        self.extractor = extractor
        self.segmenter = segmenter
        self.crf = crf
        self.adjustment = adjustment
        self.taggedAdjustment = taggedAdjustment
        self.channelLabels = channelLabels ?? (0..<segmenter.classes.count).map { UInt8($0) }
        precondition(self.channelLabels.count == segmenter.classes.count,
                     "one label per segmenter channel is needed (\(segmenter.classes.count))")
    }

    /// Logits `[classes, 64, 84]` of an image before the rules: the segmenter's, with the
    /// localizers' maps added when ``localizerFusion`` is set, and with ``testTimeFlip``
    /// averaged with the mirror image's.
    public func logits(_ image: Image) throws -> Tensor {
        // The localizers read block5_conv3 from the compact form; without them the full
        // hypercolumn path keeps the segmenter's logits exactly as they were.
        let view: (Image) throws -> Tensor = localizerFusion == nil
            ? { try segmenter.logits(extractor.extract(from: $0)) }
            : { try fusedLogits(extractor.extractCompact(from: $0)) }
        let own = try view(image)
        guard testTimeFlip else { return own }
        return Self.mean(own, mirror: try view(FeatureCache.mirrored(image)))
    }

    /// The logits from an image's features, as ``logits(_:)`` computes them from the image:
    /// with ``localizerFusion`` the maps added, with ``testTimeFlip`` averaged with the
    /// logits of the mirror image's features (e.g. a ``FeatureCache`` entry with
    /// `flipped: true`), flipped back first.
    ///
    /// - Precondition: `mirrorFeatures` is given when ``testTimeFlip`` is set.
    public func logits(features: CompactHypercolumns, mirrorFeatures: CompactHypercolumns?) throws -> Tensor {
        let own = try fusedLogits(features)
        guard testTimeFlip else { return own }
        guard let mirrorFeatures else { preconditionFailure("testTimeFlip needs the mirror image's features") }
        return Self.mean(own, mirror: try fusedLogits(mirrorFeatures))
    }

    /// The segmenter's logits, with ``localizerFusion``'s maps added when it is set.
    private func fusedLogits(_ features: CompactHypercolumns) throws -> Tensor {
        let logits = try segmenter.logits(features)
        return localizerFusion?.apply(to: logits, features: features) ?? logits
    }

    /// The mean of `own` and the mirror image's logits flipped back to the image's columns.
    @_spi(Testing) public static func mean(_ own: Tensor, mirror: Tensor) -> Tensor {
        // The same mean as the flipped training maps (lever 4), applied to every channel's rows.
        Tensor(shape: own.shape, scalars: ScoreMapAugmentation(flip: true)
            .combined(own.scalars, flipped: mirror.scalars, width: own.shape[own.rank - 1]))
    }

    /// The logits after the prediction rules: ``adjustment`` when `tags` is nil, else only the
    /// tagged classes (and background) allowed and ``taggedAdjustment``.
    ///
    /// - Throws: ``PredictionAdjustmentError`` for a tag that is not a segmenter class or a
    ///   rule out of range.
    public func adjustedLogits(_ logits: Tensor, tags: [String]? = nil) throws(PredictionAdjustmentError) -> Tensor {
        let rules = tags == nil ? adjustment : taggedAdjustment
        try rules.validate()
        let allowed = try tags.map { tags throws(PredictionAdjustmentError) in
            try PredictionAdjustment.allowedChannels(tags: tags, channelNames: segmenter.classes)
        }
        return rules.apply(to: logits, allowedChannels: allowed)
    }

    /// The label map of an image at its original resolution.
    ///
    /// - Parameter tags: the classes the image is known to contain (names of segmenter
    ///   classes), or nil when they are not known.
    /// - Throws: ``SegmenterError`` from the segmenter, ``PredictionAdjustmentError`` for an
    ///   unknown tag, ``DenseCRFError`` from the CRF (e.g. invalid `crf` parameters).
    public func segment(_ image: Image, tags: [String]? = nil) throws -> LabelMap {
        try labels(fromLogits: logits(image), image: image, tags: tags)
    }

    /// The label map for `image` from its raw segmenter logits (``logits(_:)``), at the
    /// image's size: what ``segment(_:tags:)`` does after the features, for callers that
    /// already have the logits (e.g. from cached features).
    public func labels(fromLogits logits: Tensor, image: Image, tags: [String]? = nil) throws -> LabelMap {
        let adjusted = try adjustedLogits(logits, tags: tags)
        if let crf {
            return try DenseCRF(parameters: crf).labels(image: image, logits: adjusted, labelIDs: channelLabels)
        }
        return LabelUpsampler.labels(fromLogits: adjusted, height: image.height, width: image.width,
                                     labelIDs: channelLabels)
    }
}
