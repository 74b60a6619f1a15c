import DivSeg
import DivSegCore
import DivSegIO
/// How many of the sampler's training points carry the right label (TheMethod.md, "Localizers"), on
/// images with masks: a foreground pick of class c is right when its cell lies inside c's
/// mask; a background pick is right when its cell is true background, i.e. no registered
/// class is there (unregistered objects count as background, as the registry defines it).
///
/// Cells are judged by the pixel under their centre (``PipelineDiagnostics/cellLabels(of:)``);
/// picks on cells labelled 255 are **ignored** (counted in `ignored`, in no precision).
/// Chance levels — the precision of uniformly random cells of the same images — are kept
/// beside each precision (TheMethod.md, "Localizers": background picks 77 % true background is chance when
/// ~80 % of the pixels are background).
///
/// ```swift
/// var precision = SamplingPrecision(classes: ["giraffe", "elephant"])
/// try precision.record(points: points, cellLabels: PipelineDiagnostics.cellLabels(of: truth))
/// print(precision.foregroundPrecision ?? .nan, precision.background.precision ?? .nan)
/// ```
public struct SamplingPrecision: Sendable, Equatable, Codable {
    /// Counts of one kind of pick (one class's foreground picks, or the background picks).
    public struct Counts: Sendable, Equatable, Codable {
        /// The class (or "background").
        public var name: String
        /// Picks made, all of them.
        public var picks = 0
        /// Picks whose cell carries the pick's label.
        public var correct = 0
        /// Picks on cells labelled 255 (not judged).
        public var ignored = 0
        /// Images that had picks of this kind.
        public var images = 0
        /// Σ over judged picks of the share of the image's judged cells carrying the label:
        /// the expected `correct` of random cells.
        public var chanceSum = 0.0

        public init(name: String) { self.name = name }

        /// Picks judged: all but the ignored.
        public var judged: Int { picks - ignored }
        /// correct / judged, nil when nothing was judged.
        public var precision: Double? { judged > 0 ? Double(correct) / Double(judged) : nil }
        /// The precision of uniformly random cells of the same images.
        public var chance: Double? { judged > 0 ? chanceSum / Double(judged) : nil }
    }

    /// Foreground picks per class, in class order (label `i + 1` = `foreground[i]`).
    public var foreground: [Counts]
    /// Background picks (label 0).
    public var background: Counts
    /// Images recorded.
    public var images = 0

    /// Empty counts for `classes` (label `i + 1` = `classes[i]`).
    public init(classes: [String]) {
        foreground = classes.map { Counts(name: $0) }
        background = Counts(name: "background")
    }

    /// All foreground picks pooled: correct / judged, nil when none was judged.
    public var foregroundPrecision: Double? {
        let judged = foreground.reduce(0) { $0 + $1.judged }
        return judged > 0 ? Double(foreground.reduce(0) { $0 + $1.correct }) / Double(judged) : nil
    }

    /// The chance level of ``foregroundPrecision``.
    public var foregroundChance: Double? {
        let judged = foreground.reduce(0) { $0 + $1.judged }
        return judged > 0 ? foreground.reduce(0) { $0 + $1.chanceSum } / Double(judged) : nil
    }

    /// Judges the points of one image.
    ///
    /// - Parameters:
    ///   - points: labels 0 (background) and `1…foreground.count`.
    ///   - cellLabels: the image's ground truth on the grid, labelled with the same classes.
    /// - Throws: ``DiagnosticsError/gridMismatch(detail:)`` for a location outside the cell
    ///   labels, ``DiagnosticsError/invalidSetting(name:value:requirement:)`` for a label
    ///   outside the classes; nothing is recorded then.
    public mutating func record(points: [LabeledPoint], cellLabels: [UInt8]) throws(DiagnosticsError) {
        for point in points {
            guard point.location >= 0 && point.location < cellLabels.count else {
                throw .gridMismatch(detail: "point location \(point.location) outside 0..<\(cellLabels.count)")
            }
            guard point.label >= 0 && point.label <= foreground.count else {
                throw .invalidSetting(name: "point label", value: "\(point.label)",
                                      requirement: "in 0...\(foreground.count)")
            }
        }
        var seen = Set<Int>()
        var shares: [UInt8: Double] = [:]
        for point in points {
            let label = UInt8(point.label)
            let cell = cellLabels[point.location]
            var counts = point.label == 0 ? background : foreground[point.label - 1]
            counts.picks += 1
            if seen.insert(point.label).inserted { counts.images += 1 }
            if cell == 255 {
                counts.ignored += 1
            } else {
                if cell == label { counts.correct += 1 }
                let share = shares[label] ?? PointingTally.share(of: label, in: cellLabels)
                shares[label] = share
                counts.chanceSum += share
            }
            if point.label == 0 { background = counts } else { foreground[point.label - 1] = counts }
        }
        images += 1
    }
}
