import DivSegCore

/// The images one localizer is trained and evaluated on: every image tagged with the class,
/// ``LocalizerTrainer/negativesPerPositive`` × as many drawn from the untagged ones, and a
/// held-out share of each side for the report — drawn the same way whatever the localizer's
/// architecture, so bundles of either kind record comparable training sets.
///
/// ```swift
/// var rng = SplitMix64(seed: 1)
/// let images = try LocalizerTrainingImages(className: "giraffe", positives: p, negativeCandidates: n,
///                                          negativesPerPositive: 1, heldOutFraction: 0.2, rng: &rng)
/// print(images.trainPositives.count, images.heldPositives.count, images.notes)
/// ```
public struct LocalizerTrainingImages: Sendable, Equatable {
    public var trainPositives: [String]
    public var trainNegatives: [String]
    public var heldPositives: [String]
    public var heldNegatives: [String]
    /// Caveats (too few images to hold any out, none held out).
    public var notes: [String]

    /// Whether accuracy and AUC can be measured on held-out images.
    public var heldOut: Bool { !heldPositives.isEmpty }
    /// Training images with their tag, positives first.
    public var training: [(path: String, present: Bool)] {
        trainPositives.map { ($0, true) } + trainNegatives.map { ($0, false) }
    }
    /// The images accuracy is measured on: held out if any, else the training images.
    public var evaluation: [(path: String, present: Bool)] {
        heldOut ? heldPositives.map { ($0, true) } + heldNegatives.map { ($0, false) } : training
    }

    /// Draws the negatives and the held-out images with `rng` (duplicates dropped; a
    /// candidate that is also a positive is ignored).
    ///
    /// - Throws: ``LocalizerError/noPositives(className:)``, ``LocalizerError/noNegatives(className:)``.
    public init(className: String, positives: [String], negativeCandidates: [String], negativesPerPositive: Double,
                heldOutFraction: Double, rng: inout SplitMix64) throws(LocalizerError) {
        let positives = Self.unique(positives)
        guard !positives.isEmpty else { throw LocalizerError.noPositives(className: className) }
        let positiveSet = Set(positives)
        let candidates = Self.unique(negativeCandidates).filter { !positiveSet.contains($0) }
        guard !candidates.isEmpty else { throw LocalizerError.noNegatives(className: className) }

        // An infinite ratio means every candidate (the CAM-style localizer's default).
        let negativeCount = negativesPerPositive >= Double(candidates.count) ? candidates.count
            : min(candidates.count, max(1, Int((Double(positives.count) * negativesPerPositive).rounded())))
        var shuffledCandidates = candidates
        shuffledCandidates.shuffle(using: &rng)
        let negatives = Array(shuffledCandidates.prefix(negativeCount))

        var notes: [String] = []
        if positives.count < Self.minimumUsefulPositives {
            notes.append("only \(positives.count) image\(positives.count == 1 ? "" : "s") tagged '\(className)': too few "
                + "to learn the class from (at least \(Self.minimumUsefulPositives) are needed for a localizer worth "
                + "using; tens are better); tag more images")
        }
        let holdPositives = Int((heldOutFraction * Double(positives.count)).rounded())
        let holdNegatives = Int((heldOutFraction * Double(negatives.count)).rounded())
        trainPositives = positives
        trainNegatives = negatives
        heldPositives = []
        heldNegatives = []
        if heldOutFraction > 0 {
            if holdPositives >= 2 && holdNegatives >= 2 && positives.count - holdPositives >= 1
                && negatives.count - holdNegatives >= 1 {
                var p = positives, n = negatives
                p.shuffle(using: &rng)
                n.shuffle(using: &rng)
                heldPositives = Array(p.prefix(holdPositives))
                heldNegatives = Array(n.prefix(holdNegatives))
                let heldSet = Set(heldPositives + heldNegatives)
                trainPositives = positives.filter { !heldSet.contains($0) }
                trainNegatives = negatives.filter { !heldSet.contains($0) }
            } else {
                // The smallest count whose share rounds to the 2 held-out images needed.
                let needed = Int((1.5 / heldOutFraction).rounded(.up))
                notes.append("too few images to hold out \(Int(heldOutFraction * 100)) % (\(positives.count) "
                    + "positives, \(negatives.count) negatives): accuracy and AUC are measured on the training "
                    + "images and say nothing about new images; train on at least \(needed) positives and "
                    + "\(needed) negatives for a held-out measure")
            }
        }
        if heldOutFraction == 0 {
            notes.append("no images held out: accuracy and AUC are on the training images")
        }
        self.notes = notes
    }

    /// Below this many positive images, a note says the class has too little to learn from.
    public static let minimumUsefulPositives = 5

    /// Order-preserving removal of duplicates.
    static func unique(_ paths: [String]) -> [String] {
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }
}
