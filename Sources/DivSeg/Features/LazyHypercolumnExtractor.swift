import Synchronization

/// A ``HypercolumnExtractor`` whose backbone is loaded on first use, at most once.
///
/// Loading VGG-16 (reading the 58 MB weights file and preparing 13 convolution layers)
/// costs a few tenths of a second; commands that usually find every image in the feature
/// cache — training a CAM-style bundle from cached states reads nothing else — pay it only
/// when an image misses. Safe to share between threads: concurrent first uses load once.
///
/// ```swift
/// let backbone = LazyHypercolumnExtractor(weightsAt: weightsPath)
/// let (state, digest) = try cache.stateAndDigest(for: "images/giraffe.jpg", extractor: backbone)
/// print(backbone.isLoaded)          // false when the state entry was in the cache
/// ```
public final class LazyHypercolumnExtractor: Sendable {
    private let load: @Sendable () throws -> HypercolumnExtractor
    private let loaded: Mutex<HypercolumnExtractor?>

    /// Loads the backbone from a Keras VGG-16 weights file when first needed (the file's
    /// errors are thrown then, by ``extractor()``).
    public init(weightsAt path: String) {
        load = { try HypercolumnExtractor(weightsAt: path) }
        loaded = Mutex(nil)
    }

    /// An extractor that is already loaded.
    public init(_ extractor: HypercolumnExtractor) {
        load = { extractor }
        loaded = Mutex(extractor)
    }

    /// Whether the backbone has been loaded.
    public var isLoaded: Bool { loaded.withLock { $0 != nil } }

    /// The extractor, loading the backbone on the first call.
    public func extractor() throws -> HypercolumnExtractor {
        try loaded.withLock { value throws -> HypercolumnExtractor in
            if let value { return value }
            let extractor = try load()
            value = extractor
            return extractor
        }
    }
}
