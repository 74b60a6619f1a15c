import DivSegIO
import DivSegDatasets

/// Measurements of how well a localizer localizes, on images with pixel-level ground truth
/// (TheMethod.md, "Localizers": measure pointing accuracy per class, and choose the sampling score by it).
///
/// ```swift
/// let coco = try Dataset.open(spec: "coco:../shared/data/coco-mini", split: "train")
/// let pointing = try LocalizerDiagnostics.pointingAccuracy(
///     of: giraffe, className: "giraffe", samples: coco.samples,
///     features: { try cache.features(for: $0, extractor: extractor) })
/// print(pointing.accuracy)   // share of giraffe images whose top location is on a giraffe
/// ```
public enum LocalizerDiagnostics {
    /// The result of ``pointingAccuracy(of:className:samples:score:features:)``.
    public struct PointingAccuracy: Sendable, Equatable {
        /// Images whose top-scoring cell lies inside the class's mask.
        public var hits: Int
        /// Images whose top-scoring cell lies outside it.
        public var misses: Int
        /// Images whose top cell falls on ignored ground truth (label 255): not counted.
        public var ignored: Int
        /// Tagged images without ground truth: not counted.
        public var withoutGroundTruth: Int
        /// The top cell of every counted or ignored image (row-major), by image path.
        public var topLocations: [String: Int]

        /// hits / (hits + misses); 0 when nothing was counted.
        public var accuracy: Double {
            hits + misses > 0 ? Double(hits) / Double(hits + misses) : 0
        }
    }

    /// The fraction of images tagged `className` whose top-scoring grid cell lies inside
    /// the class's ground-truth mask. Masks come from
    /// ``DatasetSample/groundTruth(classes:)`` with `[className]` and are brought to the
    /// 64×84 grid by ``cellLabels(of:)``; a top cell on label 255 is ignored.
    ///
    /// - Parameters:
    ///   - samples: any samples; those not tagged `className` are skipped.
    ///   - score: which score's maximum counts as the localizer's pick.
    ///   - features: the features of an image.
    public static func pointingAccuracy(of localizer: any ClassLocalizer, className: String, samples: [DatasetSample],
                                        score: LocalizerScore = .foreground,
                                        features: (String) throws -> CompactHypercolumns) throws -> PointingAccuracy {
        var result = PointingAccuracy(hits: 0, misses: 0, ignored: 0, withoutGroundTruth: 0, topLocations: [:])
        for sample in samples where sample.tags.contains(className) {
            guard let truth = try sample.groundTruth(classes: [className]) else {
                result.withoutGroundTruth += 1
                continue
            }
            let s = localizer.score(try features(sample.imagePath), kind: score)
            let top = topLocation(s)
            result.topLocations[sample.imagePath] = top
            switch cellLabels(of: truth)[top] {
            case 1: result.hits += 1
            case 255: result.ignored += 1
            default: result.misses += 1
            }
        }
        return result
    }

    /// The label map brought to the 64×84 feature grid by sampling the pixel under each
    /// cell's centre: cell (r, c) takes pixel (⌊(r + ½)·H/64⌋, ⌊(c + ½)·W/84⌋) — the grid
    /// covers the whole image whatever its aspect ratio, as the features do.
    public static func cellLabels(of map: LabelMap) -> [UInt8] {
        let (gh, gw) = (FeatureGrid.height, FeatureGrid.width)
        return (0..<(gh * gw)).map { i in
            let r = i / gw, c = i % gw
            let y = min(map.height - 1, Int((Double(r) + 0.5) * Double(map.height) / Double(gh)))
            let x = min(map.width - 1, Int((Double(c) + 0.5) * Double(map.width) / Double(gw)))
            return map.labels[y * map.width + x]
        }
    }

    /// The index of the largest value (the first one on ties).
    public static func topLocation(_ scores: [Float]) -> Int {
        precondition(!scores.isEmpty, "no scores")
        var best = 0
        for i in scores.indices where scores[i] > scores[best] { best = i }
        return best
    }

    /// Area under the ROC curve: the probability that a random positive scores above a
    /// random negative (ties count ½). 0.5 when either list is empty.
    ///
    /// ```swift
    /// LocalizerDiagnostics.auc(positives: [0.9, 0.8], negatives: [0.1, 0.85])   // 0.75
    /// ```
    public static func auc(positives: [Float], negatives: [Float]) -> Double {
        guard !positives.isEmpty, !negatives.isEmpty else { return 0.5 }
        var wins = 0.0
        for p in positives {
            for n in negatives {
                if p > n { wins += 1 } else if p == n { wins += 0.5 }
            }
        }
        return wins / Double(positives.count * negatives.count)
    }
}
