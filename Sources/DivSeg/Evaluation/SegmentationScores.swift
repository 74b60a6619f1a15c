import Foundation

/// Per-class IoU, mIoU and pixel accuracy of a ``ConfusionMatrix``, with a text table and
/// a JSON form. **All scores are percentages (0–100)**, as the paper reports them.
///
/// - IoU of class c = TP / (TP + FP + FN), with TP = pixels of c predicted as c, FP = other
///   pixels predicted as c, FN = pixels of c predicted as something else (ignored pixels
///   count nowhere).
/// - A class with TP + FP + FN = 0 (in neither the ground truth nor the prediction) has no
///   IoU: it is **absent**, listed in ``absentClasses`` and left out of the mean.
/// - mIoU = mean IoU over the present classes, background included.
/// - Pixel accuracy = correctly labelled pixels / counted pixels (MSRC-21's "global").
/// - Average accuracy = mean over the classes with ground-truth pixels of TP / ground-truth
///   pixels (per-class recall; MSRC-21's "average").
///
/// ```swift
/// let scores = try SegmentationScores(matrix: matrix, classNames: ["background", "aeroplane", …])
/// print(scores.table())
/// try scores.jsonData().write(to: URL(fileURLWithPath: "scores.json"))
/// // {"absent":["cow"],"averageAccuracy":55.0,"mIoU":40.6,"perClass":{…},"pixelAccuracy":81.2}
/// ```
public struct SegmentationScores: Sendable, Equatable, Encodable {
    /// The figures of one class.
    public struct ClassScore: Sendable, Equatable {
        /// The class name (index 0 is background).
        public var name: String
        /// IoU in percent, or `nil` when the class is absent from both ground truth and
        /// prediction.
        public var iou: Double?
        /// Pixels of this class in the ground truth (TP + FN).
        public var groundTruthPixels: Int64
        /// Counted pixels predicted as this class (TP + FP).
        public var predictedPixels: Int64
        /// Pixels of this class predicted as this class.
        public var truePositives: Int64

        /// Whether the class has an IoU (occurs in the ground truth or the prediction).
        public var isPresent: Bool { iou != nil }
    }

    /// One entry per label, in label order.
    public let classes: [ClassScore]
    /// Mean IoU over the present classes, in percent.
    public let meanIoU: Double
    /// Correctly labelled pixels over counted pixels, in percent.
    public let pixelAccuracy: Double
    /// Mean per-class recall (TP / ground-truth pixels) over the classes that have
    /// ground-truth pixels, in percent.
    public let averageAccuracy: Double
    /// Pixels counted (ground truth not 255).
    public let countedPixels: Int64
    /// Ground-truth pixels labelled 255, left out of every score.
    public let ignoredPixels: Int64

    /// Names of the classes that are absent, in label order.
    public var absentClasses: [String] { classes.filter { !$0.isPresent }.map(\.name) }

    /// IoU of each present class (percent), by name.
    public var perClassIoU: [String: Double] {
        var result: [String: Double] = [:]
        for c in classes { if let iou = c.iou { result[c.name] = iou } }
        return result
    }

    /// Scores `matrix`, whose label `i` is called `classNames[i]` (index 0 = "background").
    ///
    /// ```swift
    /// let scores = try SegmentationScores(matrix: matrix, classNames: names)
    /// print(String(format: "mIoU %.1f", scores.meanIoU))
    /// ```
    /// - Throws: ``EvaluationError/classCountMismatch(expected:got:)`` when the number of
    ///   names is not `matrix.classCount`, ``EvaluationError/duplicateClassName(_:)``,
    ///   ``EvaluationError/nothingEvaluated`` when the matrix counted no pixel.
    public init(matrix: ConfusionMatrix, classNames: [String]) throws(EvaluationError) {
        let n = matrix.classCount
        guard classNames.count == n else {
            throw .classCountMismatch(expected: n, got: classNames.count)
        }
        var seen = Set<String>()
        for name in classNames where !seen.insert(name).inserted {
            throw .duplicateClassName(name)
        }
        let total = matrix.countedPixels
        guard total > 0 else { throw .nothingEvaluated }

        var classes: [ClassScore] = []
        var correct: Int64 = 0
        var iouSum = 0.0
        var present = 0
        var recallSum = 0.0
        var withTruth = 0
        for c in 0..<n {
            let tp = matrix.truePositives(of: c)
            let gt = matrix.groundTruthPixels(of: c)
            let predicted = matrix.predictedPixels(of: c)
            let union = gt + predicted - tp          // TP + FN + FP
            var iou: Double? = nil
            if union > 0 {
                iou = 100 * Double(tp) / Double(union)
                iouSum += iou!
                present += 1
            }
            correct += tp
            if gt > 0 {
                recallSum += 100 * Double(tp) / Double(gt)
                withTruth += 1
            }
            classes.append(ClassScore(name: classNames[c], iou: iou, groundTruthPixels: gt,
                                      predictedPixels: predicted, truePositives: tp))
        }
        self.classes = classes
        // total > 0 means some ground-truth class has pixels, so `present` > 0.
        self.meanIoU = iouSum / Double(present)
        self.pixelAccuracy = 100 * Double(correct) / Double(total)
        self.averageAccuracy = recallSum / Double(withTruth)
        self.countedPixels = total
        self.ignoredPixels = matrix.ignoredPixels
    }

    // MARK: Text table

    /// An aligned text table: one line per class (name, IoU %, ground-truth pixels,
    /// predicted pixels; "absent" instead of an IoU for absent classes), then pixel accuracy,
    /// average accuracy, and mIoU on the last line.
    ///
    /// ```
    /// class           IoU %  GT pixels  predicted pixels
    /// background      93.75        160               170
    /// aeroplane      absent          0                 0
    /// cat              0.00         10                 0
    /// pixel accuracy    90.00
    /// average accuracy  50.00
    /// mIoU            46.88  (mean over 2 present of 3 classes)
    /// ```
    public func table() -> String {
        let headers = ["class", "IoU %", "GT pixels", "predicted pixels"]
        let footers = ["pixel accuracy", "mIoU", "average accuracy"]
        let nameWidth = ([headers[0]] + footers + classes.map(\.name)).map(\.count).max()!
        let iouWidth = max(headers[1].count, 6, Self.percent(100).count)
        let gtWidth = max(headers[2].count, classes.map { String($0.groundTruthPixels).count }.max() ?? 0)
        let predWidth = max(headers[3].count, classes.map { String($0.predictedPixels).count }.max() ?? 0)

        func pad(_ s: String, _ width: Int, right: Bool) -> String {
            let fill = String(repeating: " ", count: max(0, width - s.count))
            return right ? fill + s : s + fill
        }
        func row(_ cells: [String]) -> String {
            [pad(cells[0], nameWidth, right: false), pad(cells[1], iouWidth, right: true),
             pad(cells[2], gtWidth, right: true), pad(cells[3], predWidth, right: true)]
                .joined(separator: "  ")
        }
        var lines = [row(headers)]
        for c in classes {
            lines.append(row([c.name, c.iou.map(Self.percent) ?? "absent",
                              String(c.groundTruthPixels), String(c.predictedPixels)]))
        }
        lines.append(pad(footers[0], nameWidth, right: false) + "  "
                     + pad(Self.percent(pixelAccuracy), iouWidth, right: true))
        lines.append(pad(footers[2], nameWidth, right: false) + "  "
                     + pad(Self.percent(averageAccuracy), iouWidth, right: true))
        let present = classes.count - absentClasses.count
        lines.append(pad(footers[1], nameWidth, right: false) + "  "
                     + pad(Self.percent(meanIoU), iouWidth, right: true)
                     + "  (mean over \(present) present of \(classes.count) classes)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Two decimals, locale-independent.
    private static func percent(_ value: Double) -> String {
        String(format: "%.2f", locale: Locale(identifier: "en_US_POSIX"), value)
    }

    // MARK: JSON

    /// The JSON form: exactly the keys `mIoU`, `perClass` (name → IoU of each present class),
    /// `absent` (names of absent classes, label order), `pixelAccuracy` and
    /// `averageAccuracy`; all in percent.
    /// Decodable, so a saved report can be read back for comparisons.
    public struct Summary: Sendable, Equatable, Codable {
        /// Mean IoU over the present classes, percent.
        public var mIoU: Double
        /// IoU in percent of every present class, keyed by class name.
        public var perClass: [String: Double]
        /// Names of the absent classes (in neither ground truth nor prediction).
        public var absent: [String]
        /// Pixel accuracy, percent.
        public var pixelAccuracy: Double
        /// Average (mean per-class) accuracy, percent; nil in reports written before it existed.
        public var averageAccuracy: Double?

        public init(mIoU: Double, perClass: [String: Double], absent: [String], pixelAccuracy: Double,
                    averageAccuracy: Double? = nil) {
            self.mIoU = mIoU
            self.perClass = perClass
            self.absent = absent
            self.pixelAccuracy = pixelAccuracy
            self.averageAccuracy = averageAccuracy
        }
    }

    /// The five figures written as JSON.
    public var summary: Summary {
        Summary(mIoU: meanIoU, perClass: perClassIoU, absent: absentClasses, pixelAccuracy: pixelAccuracy,
                averageAccuracy: averageAccuracy)
    }

    /// Encodes as ``Summary`` (the keys `absent`, `averageAccuracy`, `mIoU`, `perClass`, `pixelAccuracy`).
    public func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
    }

    /// UTF-8 JSON of ``summary`` with sorted keys (byte-for-byte reproducible), pretty-printed
    /// unless `prettyPrinted` is false.
    ///
    /// ```swift
    /// let json = String(decoding: try scores.jsonData(), as: UTF8.self)
    /// let back = try JSONDecoder().decode(SegmentationScores.Summary.self, from: try scores.jsonData())
    /// ```
    public func jsonData(prettyPrinted: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = prettyPrinted ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return try encoder.encode(summary)
    }
}
