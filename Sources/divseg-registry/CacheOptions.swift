import ArgumentParser
import DivSeg
import DivSegIO
import DivSegRegistry
import Foundation

/// `--cache DIR`: where per-image features are kept between runs (a 0.35 MB compact state per
/// training image; ≈17 MB full entries only for commands that need them), and by default the
/// sample store (`<cache>/samples`).
struct CacheOptions: ParsableArguments {
    @Option(name: .long, help: "Feature cache folder (default: $DIVSEG_CACHE or ./.divseg-cache/features).")
    var cache: String?

    /// The feature cache folder named or configured.
    var directory: String { cache ?? FeatureCache.configuredDirectory() }

    /// The registry's sample store folder (``SampleStoreLocation``: its setting, else a
    /// `.samples` already in it, else `<cache>/samples`).
    func sampleStoreDirectory(registry: String) throws -> String {
        try SampleStoreLocation.directory(registry: registry, cacheDirectory: directory)
    }

    func open(weights: String) throws -> FeatureCache {
        let directory = self.directory
        return try FeatureCache(directory: directory, weightsAt: weights, log: { printError("warning: \($0)") })
    }

    /// The cache for weights whose digest is known (e.g. from ``BackboneIdentity``).
    func open(weightsSHA256: String) throws -> FeatureCache {
        try FeatureCache(directory: directory, weightsSHA256: weightsSHA256, log: { printError("warning: \($0)") })
    }

    /// The weights digests remembered in the cache folder.
    var digestMemo: FileDigestMemo { FeatureCache.digestMemo(inCacheAt: directory) }
}
