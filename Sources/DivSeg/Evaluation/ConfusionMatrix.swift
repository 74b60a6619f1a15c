import DivSegIO

/// Pixel counts of (ground-truth label, predicted label) pairs over a whole split, at the
/// original resolution (TheMethod.md "Evaluation").
///
/// Labels are `0..<classCount` with 0 = background. Ground-truth pixels labelled 255 (VOC's
/// object boundaries and "difficult" regions) are ignored: counted in ``ignoredPixels`` and
/// nowhere else. Rows are ground truth, columns prediction:
/// `counts[groundTruth * classCount + prediction]`.
///
/// A value type: evaluate images in parallel into one matrix each and ``merge(_:)`` them.
///
/// ```swift
/// var matrix = ConfusionMatrix(classCount: 21)
/// for (truth, prediction) in pairs {
///     try matrix.add(groundTruth: truth, prediction: prediction)
/// }
/// let scores = try SegmentationScores(matrix: matrix, classNames: vocClassNames)
/// print(scores.table())
/// ```
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    /// Number of labels evaluated, background included.
    public let classCount: Int
    /// `classCount × classCount` counts, row-major: row = ground truth, column = prediction.
    public private(set) var counts: [Int64]
    /// Ground-truth pixels labelled 255, which no count includes.
    public private(set) var ignoredPixels: Int64

    /// The label that marks ground-truth pixels to ignore.
    public static let ignoreLabel: UInt8 = 255

    /// An empty matrix for labels `0..<classCount`.
    ///
    /// - Precondition: `classCount` in `1...255` (255 is the ignore label, never a class).
    public init(classCount: Int) {
        precondition((1...255).contains(classCount),
                     "ConfusionMatrix needs 1...255 classes (255 is the ignore label), got \(classCount)")
        self.classCount = classCount
        self.counts = [Int64](repeating: 0, count: classCount * classCount)
        self.ignoredPixels = 0
    }

    /// Pixels whose ground truth is `groundTruth` and whose prediction is `prediction`.
    ///
    /// ```swift
    /// let personAsBackground = matrix[groundTruth: 15, prediction: 0]
    /// ```
    public subscript(groundTruth groundTruth: Int, prediction prediction: Int) -> Int64 {
        precondition((0..<classCount).contains(groundTruth) && (0..<classCount).contains(prediction),
                     "labels must be in 0..<\(classCount)")
        return counts[groundTruth * classCount + prediction]
    }

    /// Counts every pixel of one image: `groundTruth` as annotated (255 = ignore) and
    /// `prediction` at the same resolution.
    ///
    /// The matrix is unchanged when this throws. One pass over the pixels into a histogram
    /// of (truth, prediction) byte pairs, then a fold of the used bins: a 640×480 pair takes
    /// a fraction of a millisecond in a release build.
    ///
    /// ```swift
    /// let truth = try ImageDecoder.decodeLabels(contentsOf: "SegmentationClass/2007_000129.png")
    /// try matrix.add(groundTruth: truth, prediction: prediction)
    /// ```
    /// - Throws: ``EvaluationError/sizeMismatch(groundTruthWidth:groundTruthHeight:predictionWidth:predictionHeight:)``,
    ///   ``EvaluationError/predictionLabelOutOfRange(label:pixels:classCount:)`` (any label
    ///   `>= classCount`, 255 included, even on ignored pixels),
    ///   ``EvaluationError/groundTruthLabelOutOfRange(label:pixels:classCount:)`` (a label
    ///   `>= classCount` other than 255).
    public mutating func add(groundTruth: LabelMap, prediction: LabelMap) throws(EvaluationError) {
        guard groundTruth.width == prediction.width, groundTruth.height == prediction.height,
              groundTruth.labels.count == prediction.labels.count else {
            throw .sizeMismatch(groundTruthWidth: groundTruth.width, groundTruthHeight: groundTruth.height,
                                predictionWidth: prediction.width, predictionHeight: prediction.height)
        }
        let n = classCount
        var delta = [Int64](repeating: 0, count: n * n)
        var ignored: Int64 = 0
        // 65536 bins indexed by (truth << 8 | prediction): branch-free counting, validation
        // afterwards on the few used bins. UInt32 bins, so chunks stay below 2^32 pixels.
        var histogram = [UInt32](repeating: 0, count: 65536)
        let total = groundTruth.labels.count
        let chunk = 1 << 30
        var start = 0
        while start < total {
            let end = min(total, start + chunk)
            if start > 0 { histogram.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
            groundTruth.labels.withUnsafeBufferPointer { g in
                prediction.labels.withUnsafeBufferPointer { p in
                    histogram.withUnsafeMutableBufferPointer { h in
                        let gp = g.baseAddress!, pp = p.baseAddress!, hp = h.baseAddress!
                        for i in start..<end {
                            hp[Int(gp[i]) &<< 8 | Int(pp[i])] &+= 1
                        }
                    }
                }
            }
            // Predictions are checked on every pixel (ignored ones too): an out-of-range
            // prediction is a bug upstream wherever it occurs.
            for p in n..<256 {
                var pixels: Int64 = 0
                for g in 0..<256 { pixels += Int64(histogram[g << 8 | p]) }
                if pixels > 0 {
                    throw .predictionLabelOutOfRange(label: UInt8(p), pixels: pixels, classCount: n)
                }
            }
            for g in n..<255 {
                var pixels: Int64 = 0
                for p in 0..<n { pixels += Int64(histogram[g << 8 | p]) }
                if pixels > 0 {
                    throw .groundTruthLabelOutOfRange(label: UInt8(g), pixels: pixels, classCount: n)
                }
            }
            for p in 0..<n { ignored += Int64(histogram[255 << 8 | p]) }
            for g in 0..<n {
                for p in 0..<n { delta[g * n + p] += Int64(histogram[g << 8 | p]) }
            }
            start = end
        }
        for i in 0..<(n * n) { counts[i] += delta[i] }
        ignoredPixels += ignored
    }

    /// Adds the counts of `other` (e.g. a matrix filled by another thread or another shard
    /// of the split). Merging equals adding all pairs of both to one matrix.
    ///
    /// ```swift
    /// var total = ConfusionMatrix(classCount: 21)
    /// for part in perThreadMatrices { try total.merge(part) }
    /// ```
    /// - Throws: ``EvaluationError/classCountMismatch(expected:got:)``; `self` is unchanged.
    public mutating func merge(_ other: ConfusionMatrix) throws(EvaluationError) {
        guard other.classCount == classCount else {
            throw .classCountMismatch(expected: classCount, got: other.classCount)
        }
        for i in counts.indices { counts[i] += other.counts[i] }
        ignoredPixels += other.ignoredPixels
    }

    /// `self` with `other` merged in; see ``merge(_:)``.
    public func merging(_ other: ConfusionMatrix) throws(EvaluationError) -> ConfusionMatrix {
        var result = self
        try result.merge(other)
        return result
    }

    /// Pixels counted (ground truth not 255).
    public var countedPixels: Int64 { counts.reduce(0, +) }

    /// Correctly labelled pixels of `label`: the diagonal entry.
    public func truePositives(of label: Int) -> Int64 {
        self[groundTruth: label, prediction: label]
    }

    /// Pixels whose ground truth is `label` (its row sum).
    public func groundTruthPixels(of label: Int) -> Int64 {
        precondition((0..<classCount).contains(label), "label must be in 0..<\(classCount)")
        return counts[(label * classCount)..<((label + 1) * classCount)].reduce(0, +)
    }

    /// Counted pixels predicted as `label` (its column sum; pixels whose ground truth is 255
    /// are not included).
    public func predictedPixels(of label: Int) -> Int64 {
        precondition((0..<classCount).contains(label), "label must be in 0..<\(classCount)")
        var sum: Int64 = 0
        for g in 0..<classCount { sum += counts[g * classCount + label] }
        return sum
    }

    // MARK: Codable

    private enum CodingKeys: String, CodingKey {
        case classCount, counts, ignoredPixels
    }

    /// Decodes `{"classCount": n, "counts": [n² numbers], "ignoredPixels": k}`, checking
    /// the shape and that no count is negative.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let classCount = try container.decode(Int.self, forKey: .classCount)
        let counts = try container.decode([Int64].self, forKey: .counts)
        let ignored = try container.decode(Int64.self, forKey: .ignoredPixels)
        guard (1...255).contains(classCount), counts.count == classCount * classCount,
              counts.allSatisfy({ $0 >= 0 }), ignored >= 0 else {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: decoder.codingPath,
                debugDescription: "a confusion matrix needs 1...255 classes and classCount² "
                    + "non-negative counts; got \(classCount) classes and \(counts.count) counts"))
        }
        self.classCount = classCount
        self.counts = counts
        self.ignoredPixels = ignored
    }
}
