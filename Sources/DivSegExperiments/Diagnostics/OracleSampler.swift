import DivSegCore
import DivSegIO
import DivSegDatasets
import DivSeg

/// The oracle sampler: training points drawn from the ground-truth masks instead of the
/// localizers' score maps, so that a segmenter trained on them is the ceiling of the
/// features + segmenter (TheMethod.md, "Localizers": 20.5 mIoU against 6.1 from the localizers).
///
/// Per image with a mask, on the 64×84 grid (each cell judged by the pixel under its centre,
/// ``PipelineDiagnostics/cellLabels(of:)``; cells labelled 255 are never picked):
/// - for every class present in the mask (label order), ``pointsPerClass`` cells inside its
///   mask, labelled with the class;
/// - ``pointsPerClass`` cells of true background (no listed class there), labelled 0;
/// - fewer when the mask (or the background) has fewer cells.
///
/// How cells are drawn (``strategy``):
/// - ``Strategy/uniform`` (default, as the oracle row of TheMethod.md, "Localizers"): uniformly at random
///   without replacement, from a ``SplitMix64`` seeded with ``seed`` mixed with the image id
///   (so an image's points do not depend on which other images are sampled);
/// - ``Strategy/dense``: every cell on every ``denseStride``-th row and column, labelled by
///   the mask — the same grid the registry's dense labels use, so a segmenter trained on it
///   is the ceiling of *dense* labels: the segmenter trained on the true masks of the
///   training images (``pointsPerClass`` is not used);
/// - ``Strategy/diverse``: diversity in feature space within the mask, with the paper's
///   similarity `<f_i, f_j>` of unit hypercolumns (``FeatureSimilarity``): the first cell is
///   the most typical of the mask (highest similarity to the mean unit vector of its cells),
///   each next one the cell least similar to those picked (farthest point). Background cells
///   likewise, starting from the cell least similar to every foreground pick (the paper's
///   background rule restricted to true background).
///
/// The training set is built exactly as ``SegmenterTrainingSet`` rows are built for the
/// registry's segmenter (the expanded hypercolumn at the point, then the global descriptor),
/// with label `i + 1` for `classes[i]`, so the segmenter trained on it is directly comparable.
///
/// ```swift
/// let oracle = OracleSampler(pointsPerClass: 20)
/// let built = try oracle.trainingSet(samples: train.samples, classes: names) {
///     try cache.features(for: $0, extractor: extractor)
/// }
/// let (segmenter, _) = try SegmenterTrainer().train(on: built.set, classes: ["background"] + names)
/// ```
public struct OracleSampler: Sendable, Equatable, Codable {
    /// How cells are drawn inside a mask.
    public enum Strategy: String, Sendable, Codable, CaseIterable {
        /// Uniformly at random (seeded).
        case uniform
        /// Feature-space diversity within the mask (farthest point from the most typical cell).
        case diverse
        /// Every cell of the strided grid, labelled by the mask (the true-mask ceiling).
        case dense
    }

    /// Points per present class and background points per image (the paper's k).
    public var pointsPerClass: Int
    /// How cells are drawn.
    public var strategy: Strategy
    /// Seed of ``Strategy/uniform``.
    public var seed: UInt64
    /// Row and column stride of ``Strategy/dense`` (4, as the registry's dense labels).
    public var denseStride: Int

    public init(pointsPerClass: Int = 20, strategy: Strategy = .uniform, seed: UInt64 = 0, denseStride: Int = 4) {
        self.pointsPerClass = pointsPerClass
        self.strategy = strategy
        self.seed = seed
        self.denseStride = denseStride
    }

    private enum CodingKeys: String, CodingKey { case pointsPerClass, strategy, seed, denseStride }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(pointsPerClass: try c.decode(Int.self, forKey: .pointsPerClass),
                  strategy: try c.decode(Strategy.self, forKey: .strategy),
                  seed: try c.decode(UInt64.self, forKey: .seed),
                  denseStride: try c.decodeIfPresent(Int.self, forKey: .denseStride) ?? 4)
    }

    /// What ``trainingSet(samples:classes:features:progress:)`` built.
    public struct Built: Sendable {
        /// The rows and labels.
        public var set: SegmenterTrainingSet
        /// Images with masks that contributed.
        public var images: Int
        /// Points per label (index = label; background first).
        public var pointsPerLabel: [Int]
    }

    /// Checks the settings.
    ///
    /// - Throws: ``DiagnosticsError/invalidSetting(name:value:requirement:)``.
    public func validate() throws(DiagnosticsError) {
        guard pointsPerClass > 0 else {
            throw .invalidSetting(name: "pointsPerClass", value: "\(pointsPerClass)", requirement: "positive")
        }
        guard PointSampler.denseStrideRange.contains(denseStride) else {
            throw .invalidSetting(name: "denseStride", value: "\(denseStride)",
                                  requirement: "in \(PointSampler.denseStrideRange.boundText)")
        }
    }

    /// The oracle points of one image.
    ///
    /// - Parameters:
    ///   - cellLabels: the image's ground truth on the grid (0 background, 1…C classes, 255
    ///     ignore), e.g. ``PipelineDiagnostics/cellLabels(of:)``.
    ///   - similarity: the image's feature similarity; needed for ``Strategy/diverse`` only.
    ///   - imageID: mixed into the seed of ``Strategy/uniform``.
    /// - Returns: foreground points by ascending label, then background points.
    /// - Throws: ``DiagnosticsError`` for bad settings, or a similarity whose grid does not
    ///   match the cell labels (or is missing for the diverse strategy).
    public func points(cellLabels: [UInt8], similarity: FeatureSimilarity? = nil,
                       imageID: String = "") throws(DiagnosticsError) -> [LabeledPoint] {
        try validate()
        if strategy == .diverse {
            guard let similarity else {
                throw .invalidSetting(name: "similarity", value: "nil", requirement: "given for the diverse strategy")
            }
            guard similarity.locationCount == cellLabels.count else {
                throw .gridMismatch(detail: "a similarity over \(similarity.locationCount) locations for "
                                    + "\(cellLabels.count) cell labels")
            }
        }
        if strategy == .dense { return densePoints(cellLabels: cellLabels) }
        var cellsOf: [UInt8: [Int]] = [:]
        for (i, label) in cellLabels.enumerated() where label != 255 { cellsOf[label, default: []].append(i) }
        let present = cellsOf.keys.filter { $0 != 0 }.sorted()
        var rng = SplitMix64(seed: seed ^ Self.hash(imageID))
        var points: [LabeledPoint] = []
        var foreground: [Int] = []
        for label in present {
            let picks = pick(from: cellsOf[label]!, avoiding: nil, similarity: similarity, rng: &rng)
            foreground += picks
            points += picks.map { LabeledPoint(location: $0, label: Int(label)) }
        }
        if let background = cellsOf[0] {
            let picks = pick(from: background, avoiding: foreground, similarity: similarity, rng: &rng)
            points += picks.map { LabeledPoint(location: $0, label: 0) }
        }
        return points
    }

    /// Oracle points on every sample with a mask, gathered into a training set.
    ///
    /// - Parameters:
    ///   - classes: foreground classes; label `i + 1` = `classes[i]`; any other class in the
    ///     masks counts as background.
    ///   - features: the features of an image, by path.
    ///   - progress: `(done, total)` after each sample.
    /// - Throws: ``DiagnosticsError/noGroundTruth(images:)`` when no sample has a mask, other
    ///   ``DiagnosticsError``s, or what `features`, the ground truth or the training set throws.
    public func trainingSet(samples: [DatasetSample], classes: [String],
                            features: (String) throws -> CompactHypercolumns,
                            progress: ((Int, Int) -> Void)? = nil) throws -> Built {
        try validate()
        try DiagnosticsError.validate(classes: classes)
        var set: SegmenterTrainingSet?
        var images = 0
        for (index, sample) in samples.enumerated() {
            defer { progress?(index + 1, samples.count) }
            guard let truth = try sample.groundTruth(classes: classes) else { continue }
            let compact = try features(sample.imagePath)
            let full = compact.expanded()
            let similarity = strategy == .diverse ? try FeatureSimilarity(hypercolumns: full) : nil
            let points = try points(cellLabels: PipelineDiagnostics.cellLabels(of: truth), similarity: similarity,
                                    imageID: sample.id)
            if set == nil { set = SegmenterTrainingSet(globalCount: compact.global.count) }
            try set!.append(points: points, hypercolumns: full, global: compact.global)
            images += 1
        }
        guard let set else { throw DiagnosticsError.noGroundTruth(images: samples.count) }
        var perLabel = set.labelCounts()
        if perLabel.count < classes.count + 1 { perLabel += [Int](repeating: 0, count: classes.count + 1 - perLabel.count) }
        return Built(set: set, images: images, pointsPerLabel: perLabel)
    }

    // MARK: - Internals

    /// The strided grid's cells with their true labels (ignored cells left out), foreground
    /// by ascending label, then background, as the other strategies order them.
    private func densePoints(cellLabels: [UInt8]) -> [LabeledPoint] {
        let width = FeatureGrid.width
        var foreground: [LabeledPoint] = []
        var background: [LabeledPoint] = []
        for (i, label) in cellLabels.enumerated()
        where label != 255 && (i / width) % denseStride == 0 && (i % width) % denseStride == 0 {
            if label == 0 { background.append(LabeledPoint(location: i, label: 0)) }
            else { foreground.append(LabeledPoint(location: i, label: Int(label))) }
        }
        foreground.sort { ($0.label, $0.location) < ($1.label, $1.location) }
        return foreground + background
    }

    /// `pointsPerClass` cells of `candidates` (all of them when there are no more).
    private func pick(from candidates: [Int], avoiding foreground: [Int]?, similarity: FeatureSimilarity?,
                      rng: inout SplitMix64) -> [Int] {
        let k = min(pointsPerClass, candidates.count)
        switch strategy {
        case .uniform:
            var pool = candidates
            for i in 0..<k { pool.swapAt(i, i + Int(rng.next() % UInt64(pool.count - i))) }
            return Array(pool.prefix(k))
        case .diverse:
            return Self.farthestPoints(candidates, count: k, avoiding: foreground ?? [], similarity: similarity!)
        case .dense:
            preconditionFailure("dense points are not drawn per class")
        }
    }

    /// Greedy farthest points in feature space among `candidates`: the first is the candidate
    /// least similar to `avoiding` (or, with nothing to avoid, the most typical candidate),
    /// each next the one whose highest similarity to the picks so far is lowest.
    static func farthestPoints(_ candidates: [Int], count: Int, avoiding: [Int],
                               similarity: FeatureSimilarity) -> [Int] {
        guard count > 0 else { return [] }
        let n = similarity.locationCount
        var current: [Float]
        if let nearest = similarity.maximumSimilarities(to: avoiding) {
            current = nearest
        } else {
            // Most typical: highest similarity to the mean unit vector of the candidates,
            // i.e. lowest negated similarity.
            let d = similarity.dimension
            var mean = [Float](repeating: 0, count: d)
            similarity.unitFeatures.withUnsafeBufferPointer { u in
                for c in 0..<d {
                    var sum: Float = 0
                    for i in candidates { sum += u[c * n + i] }
                    mean[c] = sum / Float(candidates.count)
                }
            }
            current = similarity.similarities(toVector: mean).map { -$0 }
        }
        var taken = Set<Int>()
        var picks: [Int] = []
        for step in 0..<count {
            var best = Float.infinity, index = -1
            for i in candidates where !taken.contains(i) && (index < 0 || current[i] < best) {
                best = current[i]
                index = i
            }
            guard index >= 0 else { break }
            picks.append(index)
            taken.insert(index)
            if step + 1 < count {
                let column = similarity.similarities(to: index)
                if step == 0 && avoiding.isEmpty {
                    current = column
                } else {
                    for i in candidates where column[i] > current[i] { current[i] = column[i] }
                }
            }
        }
        return picks
    }

    /// FNV-1a of a string, then a SplitMix64 step: a stable per-image seed offset.
    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        var mixer = SplitMix64(seed: h)
        return mixer.next()
    }
}
