import DivSegCore

/// Chooses the training points of one image from its class score maps (paper §3.2).
///
/// For every class tagged in the image, ``foregroundPicks(scores:similarity:)`` picks
/// ``pointsPerClass`` locations from the class's score map `S_c`; then
/// ``backgroundPicks(foreground:similarity:)`` picks as many background locations, using
/// no scores at all. With the default ``SamplingStrategy/diverse`` strategy (f_i the unit
/// hypercolumn at location i):
///
///     i_1 = argmax_i S_c(i),   i_n = argmax_i [ S_c(i) − max_{m<n} <f_i, f_{i_m}> ]
///     b_n = argmin_i max( max_j <f_i, f_j>,  max_{m<n} <f_i, f_{b_m}> )
///
/// where j ranges over the foreground picks of every class of the image. Picks are distinct
/// locations (within a class; background picks never coincide with any foreground pick).
/// Ties go to the lowest location index, so results are deterministic. Each step costs one
/// matrix–vector product over the image's features (see ``FeatureSimilarity``).
///
/// Picks of different classes are chosen independently (so a class's picks depend only on
/// its own score map, which lets a sample store cache them per class) and may therefore
/// share a location when two tagged classes peak at the same place.
///
/// ```swift
/// let features = extractor.extract(from: image)
/// let similarity = try FeatureSimilarity(hypercolumns: features.features)
/// let sampler = PointSampler()                       // diverse, 20 points per class
/// let points = try sampler.samplePoints(
///     classScores: [(label: 3, scores: giraffeScores), (label: 7, scores: elephantScores)],
///     similarity: similarity)
/// // 20 points labelled 3, 20 labelled 7, 20 labelled 0 (background)
/// ```
public struct PointSampler: Sendable, Codable, Equatable {
    /// The sampling rule; ``SamplingStrategy/diverse`` (the paper's) by default.
    public var strategy: SamplingStrategy
    /// Points per tagged class, and background points per image: the paper's k, default 20
    /// (its Table 3: k = 1/5/10/20/50 → 35.1/37.2/39.3/40.6/40.4 mIoU). Fewer are returned
    /// only when the grid has fewer eligible locations. Ignored by ``SamplingStrategy/dense``.
    public var pointsPerClass: Int
    /// The ``pointsPerClass`` accepted. Every point costs ~19 KB in the segmenter's training
    /// set per image and class, and the paper's curve is flat from k = 20 (Table 3 stops at
    /// 50); 500 per class and image is already ~10 GB for coco-mini, more would exhaust
    /// memory or run for hours.
    public static let pointsPerClassRange = 0...500
    /// For ``SamplingStrategy/dense`` only: a location gets the best class whose scaled
    /// score `S_c(i)` is at least this, background when every class is below it. Default
    /// 0.2, the threshold the paper found best (of a sweep) for turning scaled score maps
    /// directly into segmentations; scores are scaled so that a typical positive image
    /// peaks at 1. Dense labelling is the paper's weakest baseline (15.0 mIoU).
    public var denseThreshold: Float
    /// The ``denseThreshold``s accepted: scaled scores peak near 1 on a typical positive
    /// image, so 0 labels every location with its best class and above 10 none is labelled.
    public static let denseThresholdRange: ClosedRange<Float> = 0...10
    /// For ``SamplingStrategy/spatial`` only: the kernel width σ of `exp(−d²/2σ²)` as a
    /// fraction of the grid's shorter side, d measured in grid cells. Default 0.1, i.e.
    /// σ = 6.4 cells (≈ 26 input pixels) on the 64×84 grid: points closer than about σ
    /// count as near-duplicates, points a quarter of the image apart as unrelated. The paper
    /// compares against "diversity in the spatial domain" without giving its kernel; this
    /// is our choice, with the kernel's range matching that of feature similarities (1 for
    /// the same location, towards 0 for unrelated ones).
    public var spatialBandwidth: Float
    /// For ``SamplingStrategy/dense`` only: keep the locations on every `denseStride`-th row
    /// and column (1 = all 5376). Labelling every location of every image costs ~17 KB per
    /// point in the segmenter's training set (26 GB for coco-mini's 257 images); a stride of
    /// 4 keeps 336 points per image, still spread over the whole image.
    public var denseStride: Int = 1
    /// The ``denseStride``s accepted: a stride as large as the grid's shorter side (64)
    /// already keeps a single row; larger ones mean nothing more.
    public static let denseStrideRange = 1...FeatureGrid.height
    /// For ``SamplingStrategy/dense`` only: where background goes (``DenseBackground``);
    /// ``DenseBackground/threshold`` by default.
    public var denseBackground: DenseBackground = .threshold
    /// For ``SamplingStrategy/dense`` only: the confidence margin m of "confident labels"
    /// (issue #11, lever 2). 0 (the default) labels every location. With m > 0 a location
    /// gets class c only when its best score is at least ``denseThreshold`` + m and beats
    /// the second-best tagged class by at least m; background only when the best score is
    /// below ``denseThreshold`` − m; every other location is left out of training (ignored,
    /// not guessed). With ``DenseBackground/none`` only the lead over the second class counts.
    public var denseMargin: Float = 0
    /// The ``denseMargin``s accepted: scaled scores peak near 1, so a margin above 10
    /// leaves every location out.
    public static let denseMarginRange: ClosedRange<Float> = 0...10
    /// For ``SamplingStrategy/dense`` only: at most this many points per label and image
    /// (0, the default: no cap). A label with more locations on the strided grid keeps
    /// `denseCap` of them, evenly spaced in raster order (deterministic, spread over the
    /// label's extent). Why: a segmenter trained on a few points per class and image
    /// generalises better than one trained on every grid location — with the true masks as
    /// labels, 20 uniform points per class scored 20.2 mIoU on val2017 and every stride-4
    /// location 14.7 (docs/RESULTS.md, issue #11) — because large regions (background,
    /// people) no longer outweigh small classes and small images' objects.
    public var denseCap: Int = 0
    /// The label ``denseLabels(scores:locationCount:)`` gives a location left out by
    /// ``denseMargin``.
    public static let ignoredLabel = -1

    /// A sampler; the defaults are the paper's setting (diverse, k = 20).
    public init(strategy: SamplingStrategy = .diverse, pointsPerClass: Int = 20,
                denseThreshold: Float = 0.2, spatialBandwidth: Float = 0.1) {
        self.strategy = strategy
        self.pointsPerClass = pointsPerClass
        self.denseThreshold = denseThreshold
        self.spatialBandwidth = spatialBandwidth
    }

    /// Checks the settings.
    ///
    /// - Throws: ``SamplingError/invalidSetting(name:value:requirement:)``.
    public func validate() throws(SamplingError) {
        guard Self.pointsPerClassRange.contains(pointsPerClass) else {
            throw .invalidSetting(name: "pointsPerClass", value: "\(pointsPerClass)",
                                  requirement: "in \(Self.pointsPerClassRange.boundText)")
        }
        guard Self.denseStrideRange.contains(denseStride) else {
            throw .invalidSetting(name: "denseStride", value: "\(denseStride)",
                                  requirement: "in \(Self.denseStrideRange.boundText)")
        }
        guard Self.denseThresholdRange.contains(denseThreshold) else {
            throw .invalidSetting(name: "denseThreshold", value: "\(denseThreshold)",
                                  requirement: "in \(Self.denseThresholdRange.boundText)")
        }
        guard Self.pointsPerClassRange.contains(denseCap) else {
            throw .invalidSetting(name: "denseCap", value: "\(denseCap)",
                                  requirement: "in \(Self.pointsPerClassRange.boundText) (0: no cap)")
        }
        guard Self.denseMarginRange.contains(denseMargin) else {
            throw .invalidSetting(name: "denseMargin", value: "\(denseMargin)",
                                  requirement: "in \(Self.denseMarginRange.boundText)")
        }
        guard spatialBandwidth.isFinite, spatialBandwidth > 0 else {
            throw .invalidSetting(name: "spatialBandwidth", value: "\(spatialBandwidth)",
                                  requirement: "a positive, finite fraction of the grid's shorter side")
        }
    }

    // MARK: Coding

    private enum CodingKeys: String, CodingKey {
        case strategy, pointsPerClass, denseThreshold, spatialBandwidth, denseStride, denseBackground, denseMargin, denseCap
    }

    /// Missing keys take their defaults, so settings written by older builds still decode.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PointSampler()
        self.init(strategy: try c.decodeIfPresent(SamplingStrategy.self, forKey: .strategy) ?? d.strategy,
                  pointsPerClass: try c.decodeIfPresent(Int.self, forKey: .pointsPerClass) ?? d.pointsPerClass,
                  denseThreshold: try c.decodeIfPresent(Float.self, forKey: .denseThreshold) ?? d.denseThreshold,
                  spatialBandwidth: try c.decodeIfPresent(Float.self, forKey: .spatialBandwidth) ?? d.spatialBandwidth)
        denseStride = try c.decodeIfPresent(Int.self, forKey: .denseStride) ?? d.denseStride
        denseBackground = try c.decodeIfPresent(DenseBackground.self, forKey: .denseBackground) ?? d.denseBackground
        denseMargin = try c.decodeIfPresent(Float.self, forKey: .denseMargin) ?? d.denseMargin
        denseCap = try c.decodeIfPresent(Int.self, forKey: .denseCap) ?? d.denseCap
    }

    /// The settings of issue #11 (``denseBackground``, ``denseMargin``, ``denseCap``) are written only when
    /// they differ from their defaults: sample-store keys are built from this encoding, and
    /// the stores of registries retrained before those settings existed stay valid.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(strategy, forKey: .strategy)
        try c.encode(pointsPerClass, forKey: .pointsPerClass)
        try c.encode(denseThreshold, forKey: .denseThreshold)
        try c.encode(spatialBandwidth, forKey: .spatialBandwidth)
        try c.encode(denseStride, forKey: .denseStride)
        if denseBackground != .threshold { try c.encode(denseBackground, forKey: .denseBackground) }
        if denseMargin != 0 { try c.encode(denseMargin, forKey: .denseMargin) }
        if denseCap != 0 { try c.encode(denseCap, forKey: .denseCap) }
    }

    // MARK: Foreground

    /// The foreground locations of one class, in the order picked.
    ///
    /// - ``SamplingStrategy/diverse``: the greedy rule above, k distinct locations.
    /// - ``SamplingStrategy/top``: the k highest scores, highest first.
    /// - ``SamplingStrategy/spatial``: the greedy rule with `<f_i, f_j>` replaced by
    ///   `exp(−d(i, j)²/2σ²)`, d the distance in grid cells.
    /// - ``SamplingStrategy/dense``: every location whose score reaches
    ///   ``denseThreshold``, highest first (on its own; ``denseLabels(scores:locationCount:)``
    ///   resolves locations claimed by several classes).
    ///
    /// ```swift
    /// let picks = try PointSampler().foregroundPicks(scores: s, similarity: similarity)
    /// picks[0] == s.indices.max { s[$0] < s[$1] }    // the first pick is the argmax
    /// ```
    ///
    /// - Parameter scores: `S_c(i)` for every location, scaled by the class's scoreScale.
    /// - Throws: ``SamplingError`` for a score map of the wrong size or with NaN/∞ values,
    ///   or invalid settings.
    public func foregroundPicks(scores: [Float], similarity: FeatureSimilarity) throws(SamplingError) -> [Int] {
        try validate()
        let n = similarity.locationCount
        try Self.check(scores, label: nil, locationCount: n)
        let k = min(pointsPerClass, n)
        switch strategy {
        case .diverse:
            return Self.greedyForeground(scores: scores, count: k) { similarity.similarities(to: $0) }
        case .spatial:
            let geometry = SpatialGeometry(similarity, bandwidth: spatialBandwidth)
            return Self.greedyForeground(scores: scores, count: k) { geometry.kernelColumn(to: $0) }
        case .top:
            return Self.ranked(scores, descending: true).prefix(k).map { $0 }
        case .dense:
            return Self.ranked(scores, descending: true).filter { scores[$0] >= denseThreshold }
        }
    }

    // MARK: Background

    /// The background locations of an image, given the foreground picks of all its classes.
    ///
    /// - ``SamplingStrategy/diverse``: the greedy rule for `b_n` above, k locations.
    /// - ``SamplingStrategy/top``: the k locations least similar to the foreground picks
    ///   (smallest `max_j <f_i, f_j>`), least similar first.
    /// - ``SamplingStrategy/spatial``: farthest-point picks: each pick maximises its
    ///   distance to the nearest foreground or earlier background pick — the argmin of the
    ///   largest spatial kernel value, computed on distances so that no kernel underflows.
    /// - ``SamplingStrategy/dense``: every location not in `foreground`, ascending.
    ///
    /// An image without foreground picks (no tagged class) is all background: the first pick
    /// is then its most typical location (largest similarity to the mean unit feature; for
    /// ``SamplingStrategy/spatial``, the grid centre) and the rule continues from there.
    ///
    /// ```swift
    /// let fg = try sampler.foregroundPicks(scores: s, similarity: similarity)
    /// let bg = try sampler.backgroundPicks(foreground: fg, similarity: similarity)
    /// ```
    ///
    /// - Throws: ``SamplingError/locationOutOfRange(location:locationCount:)`` or invalid
    ///   settings.
    public func backgroundPicks(foreground: [Int], similarity: FeatureSimilarity) throws(SamplingError) -> [Int] {
        try validate()
        let n = similarity.locationCount
        var seen = Set<Int>()
        var distinct: [Int] = []
        for location in foreground {
            guard location >= 0 && location < n else {
                throw .locationOutOfRange(location: location, locationCount: n)
            }
            if seen.insert(location).inserted { distinct.append(location) }
        }
        var taken = [Bool](repeating: false, count: n)
        for location in distinct { taken[location] = true }
        let k = min(pointsPerClass, n - distinct.count)

        switch strategy {
        case .dense:
            return (0..<n).filter { !taken[$0] }
        case .top:
            if let nearest = similarity.maximumSimilarities(to: distinct) {
                return Self.ranked(nearest, descending: false).lazy.filter { !taken[$0] }.prefix(k).map { $0 }
            }
            return Self.ranked(similarity.typicality(), descending: true).prefix(k).map { $0 }
        case .diverse:
            let initial = similarity.maximumSimilarities(to: distinct)
            let first = initial == nil ? Self.argmax(similarity.typicality(), taken: taken) : nil
            return Self.greedyBackground(count: k, initial: initial, first: first, taken: taken) {
                similarity.similarities(to: $0)
            }
        case .spatial:
            let geometry = SpatialGeometry(similarity, bandwidth: spatialBandwidth)
            let initial = geometry.negatedNearestSquaredDistance(to: distinct)
            let first = initial == nil ? geometry.centre : nil
            return Self.greedyBackground(count: k, initial: initial, first: first, taken: taken) {
                geometry.negatedSquaredDistanceColumn(to: $0)
            }
        }
    }

    // MARK: Dense labelling

    /// A label for every location (0 = background): the label of the class with the highest
    /// score where that score is at least ``denseThreshold`` (ties: the class listed first),
    /// background where every class is below it. The paper's dense baseline.
    ///
    /// With ``denseBackground`` ``DenseBackground/none`` every location takes its best class
    /// (no background; all ``ignoredLabel`` when no class is given). With a ``denseMargin``
    /// m > 0, locations that are not clearly one label are ``ignoredLabel`` (see
    /// ``denseMargin``).
    ///
    /// ```swift
    /// let labels = try PointSampler(strategy: .dense)
    ///     .denseLabels(scores: [(label: 1, scores: cat), (label: 2, scores: dog)])
    /// labels.count == FeatureGrid.locations
    /// ```
    ///
    /// - Throws: ``SamplingError`` for non-positive or repeated labels, wrongly sized score
    ///   maps, NaN/∞ scores.
    public func denseLabels(scores classScores: [(label: Int, scores: [Float])],
                            locationCount: Int = FeatureGrid.locations) throws(SamplingError) -> [Int] {
        try validate()
        try Self.check(classScores, locationCount: locationCount)
        let exhaustive = denseBackground == .none
        var labels = [Int](repeating: exhaustive ? Self.ignoredLabel : 0, count: locationCount)
        var best = [Float](repeating: -.infinity, count: locationCount)
        var second = [Float](repeating: -.infinity, count: locationCount)
        for (label, scores) in classScores {
            for i in 0..<locationCount {
                let s = scores[i]
                if s > best[i] {
                    second[i] = best[i]
                    best[i] = s
                    labels[i] = label
                } else if s > second[i] {
                    second[i] = s
                }
            }
        }
        for i in 0..<locationCount where labels[i] != Self.ignoredLabel {
            if !exhaustive && best[i] < denseThreshold {
                labels[i] = best[i] < denseThreshold - denseMargin ? 0 : Self.ignoredLabel
            } else if denseMargin > 0
                        && ((!exhaustive && best[i] < denseThreshold + denseMargin) || best[i] - second[i] < denseMargin) {
                labels[i] = Self.ignoredLabel
            }
        }
        return labels
    }

    /// ``denseLabels(scores:locationCount:)`` as points, on every ``denseStride``-th row and
    /// column of the 64×84 grid (every location of any other grid size when the stride is 1),
    /// leaving out ignored locations. Needs no feature similarities.
    ///
    /// ```swift
    /// var sampler = PointSampler(strategy: .dense)
    /// sampler.denseStride = 4
    /// let points = try sampler.densePoints(scores: [(label: 1, scores: cat)])   // 336 points
    /// ```
    public func densePoints(scores classScores: [(label: Int, scores: [Float])],
                            locationCount: Int = FeatureGrid.locations) throws(SamplingError) -> [LabeledPoint] {
        densePoints(labels: try denseLabels(scores: classScores, locationCount: locationCount))
    }

    /// A dense labelling of the grid (one label per location, ``ignoredLabel`` for
    /// locations left out) as training points: the locations on every ``denseStride``-th
    /// row and column of the 64×84 grid (every location of any other grid size when the
    /// stride is 1), at most ``denseCap`` per label. Shared by the plain labels and refined
    /// ones (``LabelRefinement``), so that both keep the same points.
    public func densePoints(labels: [Int]) -> [LabeledPoint] {
        let width = labels.count == FeatureGrid.locations ? FeatureGrid.width : labels.count
        let points: [LabeledPoint] = labels.enumerated().compactMap { location, label in
            let (row, column) = (location / width, location % width)
            guard label != Self.ignoredLabel, row % denseStride == 0 && column % denseStride == 0 else { return nil }
            return LabeledPoint(location: location, label: label)
        }
        return Self.capped(points, perLabel: denseCap)
    }

    /// At most `cap` of each label's `points` (0: all), evenly spaced in their order: of
    /// n > cap points the ones at `⌊(i + ½)·n / cap⌋`, i = 0…cap−1; the order is kept.
    static func capped(_ points: [LabeledPoint], perLabel cap: Int) -> [LabeledPoint] {
        guard cap > 0 else { return points }
        var indicesOf: [Int: [Int]] = [:]
        for (i, p) in points.enumerated() { indicesOf[p.label, default: []].append(i) }
        var keep = [Bool](repeating: false, count: points.count)
        for indices in indicesOf.values {
            let n = indices.count
            if n <= cap { for i in indices { keep[i] = true }; continue }
            for i in 0..<cap { keep[indices[(2 * i + 1) * n / (2 * cap)]] = true }
        }
        return points.indices.filter { keep[$0] }.map { points[$0] }
    }

    // MARK: Whole image

    /// All training points of one image: ``foregroundPicks(scores:similarity:)`` for each
    /// class (in the order given), then ``backgroundPicks(foreground:similarity:)`` against
    /// all of them, labelled 0. For ``SamplingStrategy/dense``, one point per location with
    /// the labels of ``denseLabels(scores:locationCount:)``.
    ///
    /// ```swift
    /// let points = try sampler.samplePoints(classScores: [(label: 5, scores: s)],
    ///                                       similarity: similarity)
    /// let background = points.filter { $0.label == 0 }
    /// ```
    ///
    /// - Parameter classScores: one scaled score map per class tagged in the image, with its
    ///   label (1…); an empty list samples background only.
    /// - Throws: ``SamplingError``.
    public func samplePoints(classScores: [(label: Int, scores: [Float])],
                             similarity: FeatureSimilarity) throws(SamplingError) -> [LabeledPoint] {
        try validate()
        let n = similarity.locationCount
        try Self.check(classScores, locationCount: n)
        if strategy == .dense {
            return try densePoints(scores: classScores, locationCount: n)
        }
        var points: [LabeledPoint] = []
        var foreground: [Int] = []
        for (label, scores) in classScores {
            let picks = try foregroundPicks(scores: scores, similarity: similarity)
            foreground += picks
            points += picks.map { LabeledPoint(location: $0, label: label) }
        }
        let background = try backgroundPicks(foreground: foreground, similarity: similarity)
        points += background.map { LabeledPoint(location: $0, label: 0) }
        return points
    }

    // MARK: - Internals

    static func check(_ scores: [Float], label: Int?, locationCount: Int) throws(SamplingError) {
        guard scores.count == locationCount else {
            throw .scoreCountMismatch(label: label, count: scores.count, expected: locationCount)
        }
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteScore(label: label, location: bad)
        }
    }

    static func check(_ classScores: [(label: Int, scores: [Float])], locationCount: Int) throws(SamplingError) {
        var labels = Set<Int>()
        for (label, scores) in classScores {
            guard label > 0 else { throw .invalidLabel(label) }
            guard labels.insert(label).inserted else { throw .duplicateLabel(label) }
            try check(scores, label: label, locationCount: locationCount)
        }
    }

    /// Location indices ordered by value (stable: ties in ascending index order).
    static func ranked(_ values: [Float], descending: Bool) -> [Int] {
        values.indices.sorted { a, b in
            if values[a] != values[b] { return descending ? values[a] > values[b] : values[a] < values[b] }
            return a < b
        }
    }

    /// Index of the largest value among locations not taken (lowest index on ties).
    static func argmax(_ values: [Float], taken: [Bool]) -> Int? {
        var best = -Float.infinity, index: Int? = nil
        for i in values.indices where !taken[i] && (index == nil || values[i] > best) {
            best = values[i]
            index = i
        }
        return index
    }

    /// i_1 = argmax S; i_n = argmax S(i) − max_{m<n} sim(i, i_m), over untaken locations.
    /// `column(j)` gives sim(·, j) for all locations; the running maximum makes a step
    /// O(locations) plus one column.
    static func greedyForeground(scores: [Float], count: Int, column: (Int) -> [Float]) -> [Int] {
        let n = scores.count
        var taken = [Bool](repeating: false, count: n)
        var penalty = [Float](repeating: 0, count: n)
        var picks: [Int] = []
        picks.reserveCapacity(count)
        for step in 0..<count {
            var best = -Float.infinity, index = -1
            scores.withUnsafeBufferPointer { s in
                penalty.withUnsafeBufferPointer { p in
                    for i in 0..<n where !taken[i] {
                        let value = step == 0 ? s[i] : s[i] - p[i]
                        if index < 0 || value > best { best = value; index = i }
                    }
                }
            }
            guard index >= 0 else { break }
            picks.append(index)
            taken[index] = true
            if step + 1 < count {
                let similarities = column(index)
                if step == 0 {
                    penalty = similarities
                } else {
                    for i in 0..<n where similarities[i] > penalty[i] { penalty[i] = similarities[i] }
                }
            }
        }
        return picks
    }

    /// b_n = argmin_i max(initial(i), max_{m<n} sim(i, b_m)) over untaken locations; with
    /// no `initial` (no foreground), b_1 = `first`.
    static func greedyBackground(count: Int, initial: [Float]?, first: Int?, taken: [Bool],
                                 column: (Int) -> [Float]) -> [Int] {
        var taken = taken
        let n = taken.count
        var current = initial
        var picks: [Int] = []
        picks.reserveCapacity(count)
        for step in 0..<count {
            let index: Int
            if let current {
                var best = Float.infinity, found = -1
                current.withUnsafeBufferPointer { c in
                    for i in 0..<n where !taken[i] && (found < 0 || c[i] < best) {
                        best = c[i]
                        found = i
                    }
                }
                guard found >= 0 else { break }
                index = found
            } else {
                guard let first, !taken[first] else { break }
                index = first
            }
            picks.append(index)
            taken[index] = true
            if step + 1 < count {
                let similarities = column(index)
                if current == nil {
                    current = similarities
                } else {
                    for i in 0..<n where similarities[i] > current![i] { current![i] = similarities[i] }
                }
            }
        }
        return picks
    }
}

/// Grid geometry for the spatial strategy: distances in grid cells.
struct SpatialGeometry {
    let height: Int
    let width: Int
    /// 1 / (2σ²), σ in grid cells.
    let inverseTwoSigmaSquared: Float

    init(_ similarity: FeatureSimilarity, bandwidth: Float) {
        height = similarity.height
        width = similarity.width
        let sigma = bandwidth * Float(min(height, width))
        inverseTwoSigmaSquared = 1 / (2 * sigma * sigma)
    }

    /// The location nearest the grid centre.
    var centre: Int { (height / 2) * width + width / 2 }

    /// −d(i, j)² for every location i.
    func negatedSquaredDistanceColumn(to j: Int) -> [Float] {
        let (rj, cj) = (j / width, j % width)
        var out = [Float](repeating: 0, count: height * width)
        for r in 0..<height {
            let dr = Float(r - rj)
            for c in 0..<width {
                let dc = Float(c - cj)
                out[r * width + c] = -(dr * dr + dc * dc)
            }
        }
        return out
    }

    /// exp(−d(i, j)²/2σ²) for every location i.
    func kernelColumn(to j: Int) -> [Float] {
        negatedSquaredDistanceColumn(to: j).map { _exp($0 * inverseTwoSigmaSquared) }
    }

    /// max_j −d(i, j)² over `locations` (−squared distance to the nearest), nil for none.
    func negatedNearestSquaredDistance(to locations: [Int]) -> [Float]? {
        guard !locations.isEmpty else { return nil }
        var best = [Float](repeating: -.infinity, count: height * width)
        for j in locations {
            let column = negatedSquaredDistanceColumn(to: j)
            for i in best.indices where column[i] > best[i] { best[i] = column[i] }
        }
        return best
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _exp(_ x: Float) -> Float { expf(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _exp(_ x: Float) -> Float { expf(x) }
#endif
