import DivSeg
import DivSegIO
import Foundation

/// A segmenter used although it was trained for another class set (after `add` or `remove`
/// without retraining): its channels keep the label ids the ledger gives their classes, so
/// its label maps mean what they meant when it was trained. Classes registered since are
/// never predicted; classes removed since may still be.
///
/// ```swift
/// let stale = try registry.loadStaleSegmenter()
/// print(stale.notPredicted)   // ["elephant"]: added without retraining
/// let pipeline = SegmentationPipeline(extractor: extractor, segmenter: stale.segmenter,
///                                     channelLabels: stale.channelLabels)
/// ```
public struct StaleSegmenter: Sendable {
    public let segmenter: Segmenter
    /// The label id of each segmenter channel (channel 0 = background = 0).
    public let channelLabels: [UInt8]
    /// Registered classes the segmenter was not trained for: it never labels them.
    public let notPredicted: [String]
    /// Classes the segmenter was trained for that are no longer registered (their ids stay
    /// reserved, so their pixels keep their old label).
    public let removed: [String]
    /// Whether it was in fact trained for the registry's current classes.
    public var isCurrent: Bool { notPredicted.isEmpty && removed.isEmpty }

    /// One sentence for a warning.
    public var summary: String {
        var parts: [String] = []
        if !notPredicted.isEmpty { parts.append("it never labels \(notPredicted.joined(separator: ", ")) (added since)") }
        if !removed.isEmpty { parts.append("it may still label \(removed.joined(separator: ", ")) (removed since)") }
        return "the segmenter is stale: " + (parts.isEmpty ? "its class set changed" : parts.joined(separator: "; "))
            + ". Run `divseg-registry retrain` to bring it up to date."
    }
}

extension Registry {
    /// The registry's segmenter whatever class set it was trained for (``loadSegmenter()``
    /// refuses a stale one): for looking at results before retraining.
    ///
    /// - Throws: ``RegistryError/noSegmenter(_:)``; ``RegistryError/segmenterMismatch(directory:detail:)``
    ///   when the file does not match the SHA-256 recorded for it, or a class it was trained
    ///   for has no label id in the ledger (a damaged `labels.json`); the file's own error.
    public func loadStaleSegmenter() throws -> StaleSegmenter {
        let segmenter: Segmenter
        if let snapshot = segmenterSnapshot {
            segmenter = try snapshot.withCopy { try checkedSegmenter(at: $0) }
        } else if !isSnapshot, FileManager.default.fileExists(atPath: segmenterPath) {
            segmenter = try checkedSegmenter(at: segmenterPath)
        } else {
            throw RegistryError.noSegmenter(directory)
        }
        var channelLabels: [UInt8] = []
        for name in segmenter.classes {
            if name == "background" { channelLabels.append(0); continue }
            guard let id = labels[name] ?? ledger.label(of: name), (1...254).contains(id) else {
                throw RegistryError.segmenterMismatch(directory: directory, detail: "it was trained for '\(name)', which has no label id in \(LabelLedger.fileName)")
            }
            channelLabels.append(UInt8(id))
        }
        let trained = Set(segmenter.classes)
        return StaleSegmenter(segmenter: segmenter, channelLabels: channelLabels,
                              notPredicted: bundles.map(\.name).filter { !trained.contains($0) },
                              removed: segmenter.classes.dropFirst().filter { labels[$0] == nil })
    }

    /// The segmenter file at `path`, refused when it is not the file the ledger recorded.
    private func checkedSegmenter(at path: String) throws -> Segmenter {
        let segmenter = try Segmenter(contentsOf: path, displayPath: segmenterPath)
        try checkRecordedDigest(of: path)
        return segmenter
    }
}
