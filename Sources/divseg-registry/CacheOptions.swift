import ArgumentParser
import DivSeg
import Foundation

/// `--cache DIR`: where per-image features are kept between runs (≈17 MB per image).
struct CacheOptions: ParsableArguments {
    @Option(name: .long, help: "Feature cache folder (default: $DIVSEG_CACHE or ./.divseg-cache/features).")
    var cache: String?

    func open(weights: String) throws -> FeatureCache {
        let directory = cache ?? FeatureCache.configuredDirectory()
        return try FeatureCache(directory: directory, weightsAt: weights, log: { printError("warning: \($0)") })
    }
}
