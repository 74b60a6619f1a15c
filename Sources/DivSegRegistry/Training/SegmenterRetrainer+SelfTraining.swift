import DivSeg
import Foundation

// Issue #11's label levers, kept apart from the sampling code of SegmenterRetrainer.swift:
// flipped score maps (lever 4) and self-training (lever 3), which works on the pooled
// training rows only.
extension SegmenterRetrainer {
    /// The labels an image's points may take in self-training: its registered tags, and
    /// background unless the registry is exhaustive (dense sampling with
    /// ``DenseBackground/none`` invents no background, so self-training must not either).
    func allowedLabels(_ image: TrainingImage, channel: [String: Int]) -> [Int32] {
        let exhaustive = sampler.strategy == .dense && sampler.denseBackground == .none && !image.classes.isEmpty
        return (exhaustive ? [] : [0]) + image.classes.map { Int32(channel[$0]!) }
    }

    /// A localizer's score map for sampling labels: with ``augmentation`` flip, averaged
    /// with its map on the mirror image's features (`mirror`).
    func labelScores(_ localizer: any Localizer, _ compact: CompactHypercolumns, mirror: CompactHypercolumns?) -> [Float] {
        let scores = localizer.score(compact)
        guard augmentation.flip, let mirror else { return scores }
        return augmentation.combined(scores, flipped: localizer.score(mirror))
    }

    /// ``selfTraining``'s rounds: each relabels every point of `set` with `segmenter`'s
    /// prediction restricted to its image's `allowed` labels and trains a new segmenter
    /// (same trainer, same seed) on the same rows; `segmenter` becomes the last round's.
    /// `progress` gets (round index from 1, fraction of that round's training).
    func selfTrain(_ segmenter: inout Segmenter, set: SegmenterTrainingSet, groups: [Int32], allowed: [[Int32]],
                   classes: [String], progress: @escaping (Int, Double) -> Void) throws -> [SelfTraining.Round] {
        guard selfTraining.rounds > 0 else { return [] }
        var current = set
        var rounds: [SelfTraining.Round] = []
        for round in 1...selfTraining.rounds {
            let start = Date()
            let logits = try segmenter.logits(rows: current.features)
            let labels = try SelfTraining.restrictedLabels(logits: logits, classCount: segmenter.classes.count,
                                                           groups: groups, allowed: allowed)
            let changed = zip(labels, current.labels).reduce(0) { $0 + ($1.0 != $1.1 ? 1 : 0) }
            // The rows are shared, not copied: only the labels are new.
            current = try SegmenterTrainingSet(features: current.features, labels: labels,
                                               featureChannels: current.featureChannels, globalCount: current.globalCount)
            let (next, report) = try trainer.train(on: current, classes: classes) { p in progress(round, p.fraction) }
            segmenter = next
            rounds.append(SelfTraining.Round(round: round, changedLabels: changed, pointsPerLabel: current.labelCounts(),
                                             report: report, seconds: Date().timeIntervalSince(start)))
        }
        return rounds
    }
}
