import DivSeg
import DivSegCore
import DivSegIO
/// Pointing accuracy of one class's localizer (TheMethod.md, "Localizers"): over the images tagged with the
/// class that have a mask, how often the top cell of its score map lies inside the class's
/// ground-truth mask.
///
/// **Rule** (``outcome(scores:cellLabels:label:)``): the top cell is the argmax of the score
/// on the 64×84 grid (the first on ties); the cell's centre is mapped to the original image
/// pixel under it (cell (r, c) → pixel (⌊(r + ½)·H/64⌋, ⌊(c + ½)·W/84⌋), as
/// ``PipelineDiagnostics/cellLabels(of:)``). A hit when that pixel is the class, a miss when
/// it is background or another class, and **ignored** — counted in neither — when it is 255
/// (COCO crowd regions, VOC's boundary band), which says nothing either way.
///
/// ``chance`` is what a uniformly random cell would score: the mean over the counted images
/// of the share of cells inside the mask (TheMethod.md, "Localizers": objects cover 13 % of a coco-mini
/// image on average, so 37 % pointing is well above chance, yet far from good).
///
/// ```swift
/// var tally = PointingTally(className: "giraffe")
/// tally.record(scores: s, cellLabels: cells, label: 1)
/// print(tally.accuracy ?? .nan, tally.chance ?? .nan)
/// ```
public struct PointingTally: Sendable, Equatable, Codable {
    /// Where one image's top cell fell.
    public enum Outcome: String, Sendable, Codable {
        case hit, miss, ignored
    }

    /// The class measured.
    public var className: String
    /// Images whose top cell lies inside the class's mask.
    public var hits = 0
    /// Images whose top cell lies outside it.
    public var misses = 0
    /// Images whose top cell falls on label 255: not counted.
    public var ignored = 0
    /// Images tagged with the class but without a mask: not counted.
    public var withoutGroundTruth = 0
    /// Sum over the counted images of the share of (non-ignored) cells inside the mask.
    public var maskShareSum = 0.0

    public init(className: String) {
        self.className = className
    }

    /// Images counted: hits + misses.
    public var counted: Int { hits + misses }

    /// hits / counted, nil when nothing was counted.
    public var accuracy: Double? { counted > 0 ? Double(hits) / Double(counted) : nil }

    /// The accuracy of a uniformly random cell (mean mask share), nil when nothing was counted.
    public var chance: Double? { counted > 0 ? maskShareSum / Double(counted) : nil }

    /// The outcome for one image: the top cell of `scores` checked against `cellLabels`.
    ///
    /// ```swift
    /// let cells = PipelineDiagnostics.cellLabels(of: truth)        // 5376 labels
    /// PointingTally.outcome(scores: s, cellLabels: cells, label: 3)  // .hit, .miss or .ignored
    /// ```
    ///
    /// - Throws: ``DiagnosticsError/gridMismatch(detail:)`` when the two arrays differ in
    ///   length or are empty.
    public static func outcome(scores: [Float], cellLabels: [UInt8], label: UInt8) throws(DiagnosticsError) -> Outcome {
        guard !scores.isEmpty, scores.count == cellLabels.count else {
            throw .gridMismatch(detail: "\(scores.count) scores for \(cellLabels.count) cell labels")
        }
        var top = 0
        for i in scores.indices where scores[i] > scores[top] || scores[top].isNaN { top = i }
        switch cellLabels[top] {
        case label: return .hit
        case 255: return .ignored
        default: return .miss
        }
    }

    /// Counts one image (see ``outcome(scores:cellLabels:label:)``) and returns its outcome.
    @discardableResult
    public mutating func record(scores: [Float], cellLabels: [UInt8], label: UInt8) throws(DiagnosticsError) -> Outcome {
        let result = try Self.outcome(scores: scores, cellLabels: cellLabels, label: label)
        switch result {
        case .hit: hits += 1
        case .miss: misses += 1
        case .ignored: ignored += 1
        }
        if result != .ignored { maskShareSum += Self.share(of: label, in: cellLabels) }
        return result
    }

    /// Share of the cells not labelled 255 that carry `label` (0 when all are 255).
    static func share(of label: UInt8, in cellLabels: [UInt8]) -> Double {
        var matching = 0, known = 0
        for value in cellLabels where value != 255 {
            known += 1
            if value == label { matching += 1 }
        }
        return known > 0 ? Double(matching) / Double(known) : 0
    }

    // MARK: Codable (accuracy and chance are written too, for readers of the JSON)

    private enum CodingKeys: String, CodingKey {
        case className, hits, misses, ignored, withoutGroundTruth, maskShareSum, accuracy, chance
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        className = try container.decode(String.self, forKey: .className)
        hits = try container.decode(Int.self, forKey: .hits)
        misses = try container.decode(Int.self, forKey: .misses)
        ignored = try container.decode(Int.self, forKey: .ignored)
        withoutGroundTruth = try container.decode(Int.self, forKey: .withoutGroundTruth)
        maskShareSum = try container.decode(Double.self, forKey: .maskShareSum)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(className, forKey: .className)
        try container.encode(hits, forKey: .hits)
        try container.encode(misses, forKey: .misses)
        try container.encode(ignored, forKey: .ignored)
        try container.encode(withoutGroundTruth, forKey: .withoutGroundTruth)
        try container.encode(maskShareSum, forKey: .maskShareSum)
        try container.encodeIfPresent(accuracy, forKey: .accuracy)
        try container.encodeIfPresent(chance, forKey: .chance)
    }
}
