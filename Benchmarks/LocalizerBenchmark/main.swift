// MaxPooledLocalizer benchmarks on a real coco-mini image's features (weights do not affect speed).
//
// `localizer_maps_1024`: F and B on the 64×84 grid by the exact shortcut (three GEMMs at
// the groups' resolutions, fused upsample + bias + ReLU, the 2-row second layer);
// `localizer_train_step_1024`: one training step (that forward pass, the MIL loss, the
// backward pass through the 1–2 max locations, a dense Adam update of all parameters);
// `localizer_fc1_naive_1024`: the first layer applied to the full [4224, 64, 84] hypercolumn, for
// comparison; `feature_cache_hit`: loading one image's features from a FeatureCache.
// Before the suite runs, a summary with seconds per step and GFLOP/s goes to standard error.
//
// Environment: DIVSEG_SHARED (default ../shared), DIVSEG_BENCH_HIDDEN (1024),
// DIVSEG_BENCH_CACHE (a cache directory; default a temporary one).
import Benchmark
import DivSeg
import DivSegCore
import DivSegIO
import Dispatch
import Foundation

let environment = ProcessInfo.processInfo.environment
let shared = environment["DIVSEG_SHARED"] ?? "../shared"
let weights = shared + "/models/vgg16_imagenet_notop.h5"
let imagePath = shared + "/data/coco-mini/images/000000000025.jpg"
let hidden = Int(environment["DIVSEG_BENCH_HIDDEN"] ?? "") ?? 1024
let cacheDirectory = environment["DIVSEG_BENCH_CACHE"]
    ?? FileManager.default.temporaryDirectory.appendingPathComponent("divseg-localizer-benchmark").path

func log(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

/// Keeps a result alive so the optimiser cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

AllocatorTuning.reuseFreedMemory()

let cache: FeatureCache
let extractor: HypercolumnExtractor
let features: CompactHypercolumns
do {
    extractor = try HypercolumnExtractor(weightsAt: weights)
    cache = try FeatureCache(directory: cacheDirectory, weightsAt: weights)
    features = try cache.features(for: imagePath, extractor: extractor)
} catch {
    log("benchmark setup failed: \(error)")
    exit(1)
}

var rng = SplitMix64(seed: 1)
let scale = (0..<FeatureGrid.channels).map { _ in rng.nextFloat(in: 0.001...0.01) }
let localizer = MaxPooledLocalizer(randomWithHiddenUnits: hidden, className: "bench", inputScale: scale, seed: 2)
var session = LocalizerTrainingSession(start: localizer)

/// Multiply-adds of one shortcut forward pass: the three first-layer GEMMs and the second layer.
let shortcutMACs = Double(hidden) * Double(1152 * 5376 + 1536 * 1344 + 1536 * 336) + 2 * Double(hidden) * 5376
let naiveMACs = Double(hidden) * 4224 * 5376 + 2 * Double(hidden) * 5376

func medianSeconds(_ runs: Int, _ body: () -> Void) -> Double {
    body()   // warm-up
    let times: [Double] = (0..<runs).map { _ in
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    return times.sorted()[runs / 2]
}

var present = true
let stepSeconds = medianSeconds(15) {
    present.toggle()
    blackHole(session.step(features, present: present, learningRate: 1e-4))
}
let mapsSeconds = medianSeconds(15) { blackHole(localizer.maps(features)) }
let loadSeconds = medianSeconds(15) { blackHole(try! cache.features(for: imagePath, extractor: extractor)) }
log(String(format: "hidden %d: shortcut %.2f GMAC (naive %.2f GMAC) per image", hidden, shortcutMACs / 1e9, naiveMACs / 1e9))
log(String(format: "train step   %.4f s  (%.0f GFLOP/s on the forward GEMMs' FLOPs)", stepSeconds, 2 * shortcutMACs / stepSeconds / 1e9))
log(String(format: "maps         %.4f s  (%.0f GFLOP/s)", mapsSeconds, 2 * shortcutMACs / mapsSeconds / 1e9))
log(String(format: "cache hit    %.4f s  per image (float16 entry)", loadSeconds))
log(String(format: "step + load  %.4f s  per image step from the cache", stepSeconds + loadSeconds))

benchmark("localizer_maps_\(hidden)") {
    blackHole(localizer.maps(features))
}
benchmark("localizer_train_step_\(hidden)") {
    present.toggle()
    blackHole(session.step(features, present: present, learningRate: 1e-4))
}
let full = features.expanded().reshaped([FeatureGrid.channels, FeatureGrid.locations])
let foldedKernel = Tensor(shape: [hidden, FeatureGrid.channels], scalars: localizer.inferenceKernel)
benchmark("localizer_fc1_naive_\(hidden)") {
    blackHole(BLAS.matmul(foldedKernel, full))
}
benchmark("feature_cache_hit") {
    blackHole(try cache.features(for: imagePath, extractor: extractor))
}
main()
