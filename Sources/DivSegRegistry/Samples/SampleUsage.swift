import Foundation

/// How much of a retraining's sampling came from the sample store.
///
/// ```swift
/// let result = try retrainer.retrain(registry, store: SampleStore(registry: "classes"))
/// print(result.samples.summary)   // "12 images reused (360 picks), 3 re-sampled (…)"
/// ```
public struct SampleUsage: Sendable, Equatable {
    /// Images whose picks all came from the store.
    public var imagesReused = 0
    /// Images with at least one set of picks computed afresh.
    public var imagesResampled = 0
    /// Points read from the store.
    public var picksReused = 0
    /// Points computed afresh.
    public var picksRecomputed = 0
    /// Store entries that were unreadable or did not match their key (recomputed).
    public var damagedEntries = 0
    /// Entries that could not be written (the store is a cache: training went on).
    public var failedWrites = 0
    /// Images whose dense labels were refined (``LabelRefinement``; 0 when refinement is off
    /// or every pick came from the store).
    public var imagesRefined = 0
    /// Wall time of those refinements, in seconds: a measurement, so `==` ignores it.
    public var refinementSeconds: Double = 0

    public init() {}

    public static func == (a: SampleUsage, b: SampleUsage) -> Bool {
        a.imagesReused == b.imagesReused && a.imagesResampled == b.imagesResampled && a.picksReused == b.picksReused
            && a.picksRecomputed == b.picksRecomputed && a.damagedEntries == b.damagedEntries
            && a.failedWrites == b.failedWrites && a.imagesRefined == b.imagesRefined
    }

    /// One line for people.
    public var summary: String {
        var text = "\(imagesReused) image\(imagesReused == 1 ? "" : "s") reused (\(picksReused) picks), "
            + "\(imagesResampled) re-sampled (\(picksRecomputed) picks recomputed)"
        if damagedEntries > 0 { text += ", \(damagedEntries) damaged store entr\(damagedEntries == 1 ? "y" : "ies") recomputed" }
        if imagesRefined > 0 {
            text += ", \(imagesRefined) image\(imagesRefined == 1 ? "" : "s") refined ("
                + String(format: "%.2f s per image", refinementSeconds / Double(imagesRefined)) + ")"
        }
        if failedWrites > 0 { text += ", \(failedWrites) entr\(failedWrites == 1 ? "y" : "ies") not stored" }
        return text
    }
}
