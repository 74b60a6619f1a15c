import DivSegCore

/// The points a ``Segmenter`` is trained on, pooled over images: a row-major `[count,
/// dimension]` float matrix and one label per row.
///
/// A row is the hypercolumn at the picked location (``featureChannels`` values, 4224)
/// followed by the image's global descriptor (``globalCount`` values: 512, or 4096 with
/// fc7), as the paper replicates the global feature at every location.
///
/// ```swift
/// var set = SegmenterTrainingSet(globalCount: features.global.count)
/// let points = try sampler.samplePoints(classScores: scores, similarity: similarity)
/// try set.append(points: points, hypercolumns: features.features, global: features.global)
/// set.count        // points so far
/// ```
public struct SegmenterTrainingSet: Sendable, Equatable {
    /// Hypercolumn channels per row (4224).
    public let featureChannels: Int
    /// Global descriptor length per row.
    public let globalCount: Int
    /// The rows, `[count, dimension]` row-major.
    public private(set) var features: [Float]
    /// One label per row; 0 is background.
    public private(set) var labels: [Int32]

    /// Values per row: `featureChannels + globalCount`.
    public var dimension: Int { featureChannels + globalCount }
    /// Number of points.
    public var count: Int { labels.count }

    /// An empty set for rows of `featureChannels + globalCount` values.
    public init(featureChannels: Int = FeatureGrid.channels, globalCount: Int) {
        precondition(featureChannels > 0 && globalCount >= 0,
                     "featureChannels must be positive and globalCount non-negative")
        self.featureChannels = featureChannels
        self.globalCount = globalCount
        self.features = []
        self.labels = []
    }

    /// A set over an existing row-major matrix (no copy when `features` is uniquely held).
    ///
    /// - Throws: ``SegmenterError/dimensionMismatch(what:got:expected:)`` when
    ///   `features.count != labels.count * (featureChannels + globalCount)`, and
    ///   ``SegmenterError/labelOutOfRange(label:classCount:)`` for a negative label.
    public init(features: [Float], labels: [Int32], featureChannels: Int = FeatureGrid.channels,
                globalCount: Int) throws(SegmenterError) {
        let dimension = featureChannels + globalCount
        guard featureChannels > 0, globalCount >= 0 else {
            throw .dimensionMismatch(what: "The training set layout",
                                     got: "\(featureChannels) feature channels and \(globalCount) global values",
                                     expected: "a positive channel count")
        }
        guard features.count == labels.count * dimension else {
            throw .dimensionMismatch(what: "The training matrix",
                                     got: "\(features.count) values",
                                     expected: "\(labels.count) rows × \(dimension) = \(labels.count * dimension)")
        }
        if let bad = labels.first(where: { $0 < 0 }) {
            throw .labelOutOfRange(label: Int(bad), classCount: 0)
        }
        self.featureChannels = featureChannels
        self.globalCount = globalCount
        self.features = features
        self.labels = labels
    }

    /// Reserves room for `points` more rows.
    public mutating func reserveCapacity(additionalPoints points: Int) {
        features.reserveCapacity(features.count + points * dimension)
        labels.reserveCapacity(labels.count + points)
    }

    /// Row `index` (`dimension` values).
    public func row(_ index: Int) -> ArraySlice<Float> {
        features[(index * dimension)..<((index + 1) * dimension)]
    }

    /// Appends one row.
    ///
    /// - Throws: ``SegmenterError`` for a vector of the wrong length or a negative label.
    public mutating func append(vector: [Float], label: Int) throws(SegmenterError) {
        guard vector.count == dimension else {
            throw .dimensionMismatch(what: "A training vector", got: "\(vector.count) values",
                                     expected: "\(dimension) (\(featureChannels) + \(globalCount))")
        }
        guard label >= 0, label <= Int(Int32.max) else { throw .labelOutOfRange(label: label, classCount: 0) }
        features += vector
        labels.append(Int32(label))
    }

    /// Appends the points of one image: for each point, the hypercolumn at its location
    /// followed by `global`, with the point's label.
    ///
    /// ```swift
    /// try set.append(points: points, hypercolumns: h.features, global: h.global)
    /// ```
    ///
    /// - Parameters:
    ///   - hypercolumns: the image's `[featureChannels, height, width]` tensor; locations
    ///     are `row * width + column`.
    ///   - global: the image's global descriptor (`globalCount` values).
    /// - Throws: ``SegmenterError`` for mismatched shapes, locations outside the grid or
    ///   negative labels; nothing is appended then.
    public mutating func append(points: [LabeledPoint], hypercolumns: Tensor, global: [Float]) throws(SegmenterError) {
        let shape = hypercolumns.shape
        guard shape.count == 3, shape[0] == featureChannels else {
            throw .dimensionMismatch(what: "The hypercolumn tensor", got: "shape \(shape)",
                                     expected: "[\(featureChannels), height, width]")
        }
        guard global.count == globalCount else {
            throw .dimensionMismatch(what: "The global descriptor", got: "\(global.count) values",
                                     expected: "\(globalCount)")
        }
        let n = shape[1] * shape[2]
        for point in points {
            guard point.location >= 0 && point.location < n else {
                throw .dimensionMismatch(what: "A point", got: "location \(point.location)",
                                         expected: "a location in 0..<\(n)")
            }
            guard point.label >= 0, point.label <= Int(Int32.max) else {
                throw .labelOutOfRange(label: point.label, classCount: 0)
            }
        }
        let (d, start) = (dimension, features.count)
        let channels = featureChannels
        features.append(contentsOf: repeatElement(0, count: points.count * d))
        features.withUnsafeMutableBufferPointer { out in
            hypercolumns.scalars.withUnsafeBufferPointer { x in
                global.withUnsafeBufferPointer { g in
                    for (r, point) in points.enumerated() {
                        let row = out.baseAddress! + start + r * d
                        let column = x.baseAddress! + point.location
                        for c in 0..<channels { row[c] = column[c * n] }
                        if !g.isEmpty { (row + channels).update(from: g.baseAddress!, count: g.count) }
                    }
                }
            }
        }
        labels += points.map { Int32($0.label) }
    }

    /// Appends every row of `other`, which must have the same layout.
    public mutating func append(contentsOf other: SegmenterTrainingSet) throws(SegmenterError) {
        guard other.featureChannels == featureChannels, other.globalCount == globalCount else {
            throw .dimensionMismatch(what: "The appended training set",
                                     got: "rows of \(other.featureChannels) + \(other.globalCount)",
                                     expected: "\(featureChannels) + \(globalCount)")
        }
        features += other.features
        labels += other.labels
    }

    /// Number of points per label, indexed by label (length: largest label + 1).
    public func labelCounts() -> [Int] {
        guard let top = labels.max() else { return [] }
        var counts = [Int](repeating: 0, count: Int(top) + 1)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// Per-dimension mean and standard deviation over all rows (population statistics,
    /// accumulated in double precision over a fixed partition of the rows, so the result
    /// does not depend on the number of threads). A standard deviation below 1e-6 of the
    /// dimension's scale is reported as 0 (a constant dimension).
    public func statistics() -> (mean: [Float], std: [Float]) {
        let d = dimension, n = count
        guard n > 0 else { return ([Float](repeating: 0, count: d), [Float](repeating: 0, count: d)) }
        let blocks = min(64, n)
        var sums = [Double](repeating: 0, count: blocks * d)
        var squares = [Double](repeating: 0, count: blocks * d)
        features.withUnsafeBufferPointer { x in
            sums.withUnsafeMutableBufferPointer { s in
                squares.withUnsafeMutableBufferPointer { q in
                    Parallel.forEachChunk(of: 0..<blocks) { range in
                        for block in range {
                            let lo = n * block / blocks, hi = n * (block + 1) / blocks
                            let sb = s.baseAddress! + block * d, qb = q.baseAddress! + block * d
                            for r in lo..<hi {
                                let row = x.baseAddress! + r * d
                                for j in 0..<d {
                                    let v = Double(row[j])
                                    sb[j] += v
                                    qb[j] += v * v
                                }
                            }
                        }
                    }
                }
            }
        }
        var mean = [Float](repeating: 0, count: d), std = [Float](repeating: 0, count: d)
        for j in 0..<d {
            var s = 0.0, q = 0.0
            for block in 0..<blocks { s += sums[block * d + j]; q += squares[block * d + j] }
            let m = s / Double(n)
            let variance = max(0, q / Double(n) - m * m)
            let sd = variance.squareRoot()
            mean[j] = Float(m)
            let scale = max(abs(m), (q / Double(n)).squareRoot())
            std[j] = sd > 1e-6 * scale && sd > 1e-12 ? Float(sd) : 0
        }
        return (mean, std)
    }
}
