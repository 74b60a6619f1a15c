import Foundation

/// What ``RegistryEditor/add(bundleAt:retrain:progress:)``,
/// ``RegistryEditor/remove(_:retrain:progress:)`` or ``RegistryEditor/retrain(progress:)``
/// did.
///
/// ```swift
/// let report = try editor.add(bundleAt: "new/giraffe")
/// print(report.summary)
/// if let samples = report.retraining?.samples { print(samples.picksReused) }
/// ```
public struct ChangeReport: Sendable {
    /// The kind of change.
    public enum Change: Sendable, Hashable {
        case added(String)
        case removed(String)
        case retrained
    }

    public var change: Change
    /// Label id of the added or removed class.
    public var label: Int?
    /// The registry after the change.
    public var registry: Registry
    /// The segmenter training, when the change retrained it.
    public var retraining: SegmenterRetrainer.Result?
    /// The segmenter removed because no class is left.
    public var removedSegmenter: Bool
    /// Wall-clock time of the whole change (lock wait included).
    public var seconds: Double

    /// Lines for people: the change, the retraining with its sample-store reuse, or a note
    /// that the segmenter is now stale.
    public var summary: String {
        var lines: [String] = []
        switch change {
        case .added(let name): lines.append("added \(name) (label \(label.map(String.init) ?? "?")) to \(registry.directory)")
        case .removed(let name): lines.append("removed \(name) (label \(label.map(String.init) ?? "?") stays reserved) from \(registry.directory)")
        case .retrained: lines.append("retrained the segmenter of \(registry.directory)")
        }
        if let r = retraining {
            let classes = registry.bundles.count == 1 ? "1 class" : "\(registry.bundles.count) classes"
            lines.append(String(format: "segmenter: %@ + background, %d points from %d images; sampling %.1f s, training %.1f s, final loss %.3f",
                                classes, r.points, r.images, r.samplingSeconds, r.trainingSeconds,
                                r.report.epochLosses.last ?? .nan))
            lines.append("samples: \(r.samples.summary)")
            for round in r.rounds {
                lines.append(String(format: "self-training round %d: %d labels changed, training %.1f s, final loss %.3f",
                                    round.round, round.changedLabels, round.seconds, round.report.epochLosses.last ?? Double.nan))
            }
        } else if removedSegmenter {
            lines.append("no classes left: segmenter removed")
        } else {
            let status = registry.segmenterStatus
            if status != .current && status != .notNeeded {
                lines.append("segmenter: \(status)")
            }
        }
        lines.append(String(format: "done in %.1f s", seconds))
        return lines.joined(separator: "\n")
    }
}
