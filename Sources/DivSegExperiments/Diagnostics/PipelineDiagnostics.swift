import DivSegCore
import DivSegIO
import DivSegDatasets
import DivSeg

/// Where the pipeline loses quality (TheMethod.md, "Localizers"): per-class pointing accuracy of the
/// localizers and the precision of the sampled training points, measured on images with
/// masks in one pass (each image's features read once, each tagged class's score computed
/// once and used for both).
///
/// - **Pointing** (``PointingTally``): for each class, the images tagged with it that have
///   a mask; the top cell of the class's score must fall inside its mask (cells on label 255
///   are skipped).
/// - **Sampling** (``SamplingPrecision``): the images with a mask tagged with at least one of
///   the classes — images with no listed tag contribute only background points, all of them
///   trivially right, so they are left out. The points are sampled exactly as
///   ``PointSampler/samplePoints(classScores:similarity:)`` samples them for the registry's
///   segmenter (tagged classes' scores, label `i + 1` for `classes[i]`, similarity of the
///   expanded hypercolumns).
///
/// ```swift
/// let diagnostics = try PipelineDiagnostics(classes: names, localizers: localizers)
/// let report = try diagnostics.measure(samples: train.samples) {
///     try cache.features(for: $0, extractor: extractor)
/// }
/// print(report.text())
/// ```
public struct PipelineDiagnostics: Sendable {
    /// Foreground classes; label `i + 1` = `classes[i]`.
    public let classes: [String]
    /// One localizer per class, in class order.
    public let localizers: [any ClassLocalizer]
    /// The score whose maximum is the pointing location and that sampling uses (the
    /// registry's segmenter samples by ``LocalizerScore/foreground``).
    public var score: LocalizerScore
    /// The sampler measured (the registry's default: diverse, k = 20).
    public var sampler: PointSampler

    /// - Throws: ``DiagnosticsError/invalidClasses(detail:)`` or
    ///   ``DiagnosticsError/localizerCountMismatch(classes:localizers:)``.
    public init(classes: [String], localizers: [any ClassLocalizer], score: LocalizerScore = .foreground,
                sampler: PointSampler = PointSampler()) throws(DiagnosticsError) {
        try DiagnosticsError.validate(classes: classes)
        guard localizers.count == classes.count else {
            throw .localizerCountMismatch(classes: classes.count, localizers: localizers.count)
        }
        self.classes = classes
        self.localizers = localizers
        self.score = score
        self.sampler = sampler
    }

    /// The ground truth brought to the 64×84 grid: each cell takes the pixel under its
    /// centre, (⌊(r + ½)·H/64⌋, ⌊(c + ½)·W/84⌋) for cell (r, c) — the grid covers the whole
    /// original image, as the features do (the image is resized to 256×336).
    ///
    /// ```swift
    /// let cells = PipelineDiagnostics.cellLabels(of: try sample.groundTruth(classes: names)!)
    /// ```
    public static func cellLabels(of truth: LabelMap) -> [UInt8] {
        LocalizerDiagnostics.cellLabels(of: truth)
    }

    /// Measures pointing accuracy and (unless `sampling` is false) sampling precision on
    /// `samples`.
    ///
    /// - Parameters:
    ///   - features: the features of an image, by path (read only for images with a mask and
    ///     a listed tag).
    ///   - progress: `(done, total)` after each sample.
    /// - Returns: a report without ``DiagnosticsReport/oracle``.
    /// - Throws: ``DiagnosticsError/noGroundTruth(images:)`` when no sample has a mask, other
    ///   ``DiagnosticsError``s, ``SamplingError``, or what `features` or the ground truth throws.
    public func measure(samples: [DatasetSample], sampling: Bool = true,
                        features: (String) throws -> CompactHypercolumns,
                        progress: ((Int, Int) -> Void)? = nil) throws -> DiagnosticsReport {
        var pointing = classes.map { PointingTally(className: $0) }
        var precision = sampling ? SamplingPrecision(classes: classes) : nil
        var withMasks = 0
        for (index, sample) in samples.enumerated() {
            defer { progress?(index + 1, samples.count) }
            let tagged = classes.indices.filter { sample.tags.contains(classes[$0]) }
            guard let truth = try sample.groundTruth(classes: classes) else {
                for c in tagged { pointing[c].withoutGroundTruth += 1 }
                continue
            }
            withMasks += 1
            guard !tagged.isEmpty else { continue }
            let cells = Self.cellLabels(of: truth)
            let compact = try features(sample.imagePath)
            var classScores: [(label: Int, scores: [Float])] = []
            for c in tagged {
                let s = localizers[c].score(compact, kind: score)
                try pointing[c].record(scores: s, cellLabels: cells, label: UInt8(c + 1))
                classScores.append((label: c + 1, scores: s))
            }
            if precision != nil {
                let similarity = try FeatureSimilarity(hypercolumns: compact.expanded())
                let points = try sampler.samplePoints(classScores: classScores, similarity: similarity)
                try precision!.record(points: points, cellLabels: cells)
            }
        }
        guard withMasks > 0 else { throw DiagnosticsError.noGroundTruth(images: samples.count) }
        return DiagnosticsReport(classes: classes, score: score, sampler: sampler, images: samples.count,
                                 imagesWithMasks: withMasks, pointing: pointing, sampling: precision)
    }
}
