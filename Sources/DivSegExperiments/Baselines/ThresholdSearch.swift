import DivSegCore
import DivSegIO
import DivSeg

/// Chooses the background threshold of a baseline that labels pixels from per-class maps
/// (``CAMBaseline``, ``LocalizerArgmaxBaseline``) by a grid search on training images with
/// masks: the threshold whose segmentations of those images have the highest mIoU.
///
/// **Labelling rule** (``labels(classMaps:threshold:height:width:)``, shared by the search
/// and the baselines' predictions, so the chosen threshold means exactly what it meant in
/// the search): the `[C, h, w]` class maps are resized bilinearly to the image size
/// (half-pixel centres, as ``Resampler/resize(_:height:width:antialias:)``); at each pixel
/// the strongest class wins (the first on ties; NaN never wins) and the pixel gets its label
/// `c + 1` when its value is **at least** the threshold, else background (0).
///
/// Each image is resized and reduced to (strongest value, its class) once; every threshold
/// of the grid is then scored from those two arrays into its own ``ConfusionMatrix``
/// (VOC protocol: original resolution, 255 ignored, mIoU over present classes).
///
/// ```swift
/// var search = try ThresholdSearch(thresholds: ThresholdSearch.grid(from: 0.05, through: 0.6, by: 0.05),
///                                  classes: ["cat", "dog"])
/// for (maps, truth) in trainingImages { try search.add(classMaps: maps, groundTruth: truth) }
/// let best = try search.best()          // best.threshold, best.meanIoU
/// ```
public struct ThresholdSearch: Sendable {
    /// The mIoU one threshold of the grid reached.
    public struct Candidate: Sendable, Equatable, Codable {
        /// The threshold.
        public var threshold: Float
        /// mIoU in percent over the images added, nil when no pixel was counted.
        public var meanIoU: Double?

        public init(threshold: Float, meanIoU: Double?) {
            self.threshold = threshold
            self.meanIoU = meanIoU
        }
    }

    /// The thresholds tried, in the order given.
    public let thresholds: [Float]
    /// Foreground classes: channel `c` of the class maps is label `c + 1`.
    public let classes: [String]
    /// One confusion matrix per threshold, over `classes.count + 1` labels.
    public private(set) var matrices: [ConfusionMatrix]
    /// Images added so far.
    public private(set) var images = 0

    /// Evenly spaced thresholds `from, from + by, …` up to `through` (inclusive, with a
    /// tolerance of a thousandth of a step for rounding).
    ///
    /// ```swift
    /// ThresholdSearch.grid(from: 0.05, through: 0.6, by: 0.05)   // 12 values
    /// ```
    public static func grid(from start: Float, through end: Float, by step: Float) -> [Float] {
        precondition(step > 0, "the grid step must be positive")
        var values: [Float] = []
        var i = 0
        while true {
            let value = start + Float(i) * step
            if value > end + step / 1000 { break }
            values.append(value)
            i += 1
        }
        return values
    }

    /// An empty search over `thresholds` for maps of `classes`.
    ///
    /// - Throws: ``BaselineError/invalidClasses(detail:)``, or
    ///   ``BaselineError/invalidSetting(name:value:requirement:)`` for an empty grid or a
    ///   threshold that is not finite.
    public init(thresholds: [Float], classes: [String]) throws(BaselineError) {
        try BaselineError.validate(classes: classes)
        guard !thresholds.isEmpty else {
            throw .invalidSetting(name: "thresholds", value: "[]", requirement: "at least one value")
        }
        if let bad = thresholds.first(where: { !$0.isFinite }) {
            throw .invalidSetting(name: "thresholds", value: "\(bad)", requirement: "finite values")
        }
        self.thresholds = thresholds
        self.classes = classes
        self.matrices = thresholds.map { _ in ConfusionMatrix(classCount: classes.count + 1) }
    }

    /// Scores one image at every threshold.
    ///
    /// - Parameters:
    ///   - classMaps: `[classes.count, h, w]` maps (any grid; resized to the truth's size).
    ///   - groundTruth: labels `0…classes.count` and 255 (ignore) at the original resolution,
    ///     e.g. ``DatasetSample/groundTruth(classes:)`` with ``classes``.
    /// - Throws: ``BaselineError/scoreMismatch(detail:)`` for maps of the wrong shape,
    ///   ``BaselineError/evaluationFailed(detail:)`` for a truth label outside the classes;
    ///   the search is unchanged then.
    public mutating func add(classMaps: Tensor, groundTruth: LabelMap) throws(BaselineError) {
        try Self.check(classMaps, classCount: classes.count)
        let (values, labels) = Self.strongest(classMaps: classMaps, height: groundTruth.height,
                                              width: groundTruth.width)
        var updated = matrices
        var prediction = LabelMap(width: groundTruth.width, height: groundTruth.height,
                                  labels: [UInt8](repeating: 0, count: values.count))
        for (t, threshold) in thresholds.enumerated() {
            prediction.labels.withUnsafeMutableBufferPointer { out in
                for i in 0..<values.count { out[i] = values[i] >= threshold ? labels[i] : 0 }
            }
            do {
                try updated[t].add(groundTruth: groundTruth, prediction: prediction)
            } catch {
                throw .evaluationFailed(detail: error.description)
            }
        }
        matrices = updated
        images += 1
    }

    /// The mIoU of every threshold, in grid order.
    public func candidates() -> [Candidate] {
        let names = ["background"] + classes
        return zip(thresholds, matrices).map { threshold, matrix in
            Candidate(threshold: threshold,
                      meanIoU: (try? SegmentationScores(matrix: matrix, classNames: names))?.meanIoU)
        }
    }

    /// The threshold with the highest mIoU (the first in grid order on ties).
    ///
    /// - Throws: ``BaselineError/noGroundTruth(images:)`` when no pixel was counted.
    public func best() throws(BaselineError) -> Candidate {
        var best: Candidate?
        for candidate in candidates() {
            guard let miou = candidate.meanIoU else { continue }
            if best == nil || miou > best!.meanIoU! { best = candidate }
        }
        guard let best else { throw .noGroundTruth(images: images) }
        return best
    }

    /// The segmentation the labelling rule gives (see the type's documentation): label
    /// `c + 1` of the strongest resized class map where it reaches `threshold`, else 0.
    ///
    /// ```swift
    /// let labels = ThresholdSearch.labels(classMaps: maps, threshold: 0.2, height: 480, width: 640)
    /// ```
    ///
    /// - Precondition: `classMaps` is `[C, h, w]` with `1 ≤ C ≤ 254`; sizes positive.
    public static func labels(classMaps: Tensor, threshold: Float, height: Int, width: Int) -> LabelMap {
        precondition(classMaps.rank == 3 && (1...254).contains(classMaps.shape[0]),
                     "class maps must be [C, h, w] with 1...254 classes, got \(classMaps.shape)")
        let (values, labels) = strongest(classMaps: classMaps, height: height, width: width)
        var out = labels
        for i in 0..<out.count where !(values[i] >= threshold) { out[i] = 0 }
        return LabelMap(width: width, height: height, labels: out)
    }

    /// Per pixel of the resized maps: the strongest value (−∞ when every class is NaN) and
    /// its label `c + 1` (first maximum).
    static func strongest(classMaps: Tensor, height: Int, width: Int) -> (values: [Float], labels: [UInt8]) {
        let resized = Resampler.resize(classMaps, height: height, width: width)
        let (c, n) = (classMaps.shape[0], height * width)
        var values = [Float](repeating: -.infinity, count: n)
        var labels = [UInt8](repeating: 0, count: n)
        resized.scalars.withUnsafeBufferPointer { maps in
            values.withUnsafeMutableBufferPointer { best in
                labels.withUnsafeMutableBufferPointer { arg in
                    let (m, b, a) = (maps.baseAddress!, best.baseAddress!, arg.baseAddress!)
                    Parallel.forEachChunk(of: 0..<n, minimumChunk: 16_384) { range in
                        for channel in 0..<c {
                            let plane = m + channel * n, label = UInt8(channel + 1)
                            for i in range where plane[i] > b[i] {
                                b[i] = plane[i]
                                a[i] = label
                            }
                        }
                    }
                }
            }
        }
        return (values, labels)
    }

    static func check(_ classMaps: Tensor, classCount: Int) throws(BaselineError) {
        guard classMaps.rank == 3, classMaps.shape[0] == classCount, classMaps.shape[1] > 0,
              classMaps.shape[2] > 0 else {
            throw .scoreMismatch(detail: "class maps of shape \(classMaps.shape), expected "
                                 + "[\(classCount), height, width]")
        }
    }
}
