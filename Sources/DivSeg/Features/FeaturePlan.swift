import Foundation

/// How many of a job's images already have their features in a ``FeatureCache`` and how many
/// need the backbone — counted from the entry files before the work starts, so that a long
/// command can say up front what it will do (`features: 57 of 315 images cached, 258 to
/// compute with the backbone`). An entry file that exists but turns out damaged is counted
/// as cached; the job recomputes it, so the count is an estimate, never a promise.
///
/// ```swift
/// let plan = FeaturePlan(cache: cache, imagePaths: paths, entry: .state)
/// print("features: \(plan)")
/// ```
public struct FeaturePlan: Sendable, Equatable, CustomStringConvertible {
    /// Which entry the job reads.
    public enum Entry: Sendable, Equatable {
        /// The compact state (``FeatureCache/state(for:extractor:flipped:)``: CAM-style
        /// training, dense labels); a full entry also serves, it is migrated cheaply.
        case state
        /// The full hypercolumns (``FeatureCache/features(for:extractor:flipped:)``,
        /// ``FeatureCache/samplingFeatures(for:extractor:flipped:)``).
        case full
    }

    /// Images of the job (each counted once).
    public var images: Int
    /// Of those, images whose entries are all in the cache.
    public var cached: Int
    /// Images that need the backbone.
    public var toCompute: Int { images - cached }

    public init(images: Int, cached: Int) {
        self.images = images
        self.cached = min(images, max(0, cached))
    }

    /// Counts the images of `imagePaths` (duplicates once) with an `entry` in `cache`, also
    /// mirrored with `mirrored`. Reads each image to hash it (its cache key), not the entries;
    /// an image that cannot be read counts as to compute (the job itself reports it).
    public init(cache: FeatureCache, imagePaths: [String], entry: Entry, mirrored: Bool = false) {
        let unique = Array(Set(imagePaths))
        let files = FileManager.default
        var cached = 0
        for path in unique {
            guard let digest = try? cache.imageDigest(path) else { continue }
            let present = (mirrored ? [false, true] : [false]).allSatisfy { flipped in
                files.fileExists(atPath: cache.entryPath(digest: digest, flipped: flipped))
                    || (entry == .state && files.fileExists(atPath: cache.statePath(digest: digest, flipped: flipped)))
            }
            if present { cached += 1 }
        }
        self.init(images: unique.count, cached: cached)
    }

    /// `57 of 315 images cached, 258 to compute with the backbone`.
    public var description: String {
        if images == 0 { return "no images" }
        if toCompute == 0 { return "all \(images) images cached" }
        return "\(cached) of \(images) image\(images == 1 ? "" : "s") cached, \(toCompute) to compute with the backbone"
    }
}
