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
            let logits = selfTraining.folds > 1
                ? try crossFittedLogits(current, groups: groups, classes: classes)
                : try segmenter.logits(rows: current.features)
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

    /// The logits of every row of `set`, each fold of images (group index modulo
    /// ``SelfTraining/folds``) predicted by a segmenter trained on the other folds' rows.
    func crossFittedLogits(_ set: SegmenterTrainingSet, groups: [Int32], classes: [String]) throws -> [Float] {
        let k = selfTraining.folds, d = set.dimension, c = classes.count
        var logits = [Float](repeating: 0, count: set.count * c)
        for fold in 0..<k {
            let held = groups.indices.filter { Int(groups[$0]) % k == fold }
            guard !held.isEmpty else { continue }
            let kept = groups.indices.filter { Int(groups[$0]) % k != fold }
            guard !kept.isEmpty else { throw SegmenterError.emptyTrainingSet }
            func rows(_ indices: [Int]) -> [Float] {
                var out: [Float] = []
                out.reserveCapacity(indices.count * d)
                set.features.withUnsafeBufferPointer { f in
                    for r in indices { out.append(contentsOf: f[(r * d)..<((r + 1) * d)]) }
                }
                return out
            }
            let training = try SegmenterTrainingSet(features: rows(kept), labels: kept.map { set.labels[$0] },
                                                    featureChannels: set.featureChannels, globalCount: set.globalCount)
            let (other, _) = try trainer.train(on: training, classes: classes)
            let predicted = try other.logits(rows: rows(held))
            for (i, r) in held.enumerated() {
                for j in 0..<c { logits[r * c + j] = predicted[i * c + j] }
            }
        }
        return logits
    }
}
