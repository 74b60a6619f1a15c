// A CAM-style class trained from the feature cache both ways (issue #14 item 1): from the
// full entries (≈17.5 MB per image, what `train` read before) and from the compact state
// entries (0.35 MB), with the time of each and whether the two localizers are bit-identical.
//
//   swift build -c release --product CAMStateBenchmark
//   .build/release/CAMStateBenchmark --dataset coco:../shared/data/coco-mini --split train --class giraffe \
//       --cache $DIVSEG_CACHE
//
// Both paths need valid entries for every image (run `train` once); nothing is computed.
import DivSeg
import DivSegCore
import DivSegDatasets
import DivSegIO
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
func value(_ name: String, _ fallback: String, in arguments: [String] = arguments) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}
let className = value("--class", "giraffe")
let dataset = try Dataset.open(spec: value("--dataset", "coco:../shared/data/coco-mini"), split: value("--split", "train"))
let weights = try WeightsLocator.resolve(nil)
let cache = try FeatureCache(directory: value("--cache", FeatureCache.configuredDirectory()), weightsAt: weights)
let positives = dataset.samples.filter { $0.tags.contains(className) }.map(\.imagePath)
let negatives = dataset.samples.filter { !$0.tags.contains(className) }.map(\.imagePath)
struct Missing: Error { var path: String }

func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = Date()
    let result = try body()
    return (result, Date().timeIntervalSince(start))
}
let trainer = AveragePooledLocalizerTrainer()
let (fromStates, statesSeconds) = try timed {
    try trainer.train(className: className, positives: positives, negativeCandidates: negatives, states: { path, flipped in
        guard let state = try cache.cachedState(for: path, flipped: flipped) else { throw Missing(path: path) }
        return state
    })
}
let (fromFull, fullSeconds) = try timed {
    try trainer.train(className: className, positives: positives, negativeCandidates: negatives, features: { path, flipped in
        guard let features = try cache.cachedFeatures(for: path, flipped: flipped) else { throw Missing(path: path) }
        return features
    })
}
let (_, readSeconds) = try timed {
    for path in positives + negatives { _ = try cache.cachedState(for: path) }
}
let (_, digestSeconds) = try timed {
    for path in positives + negatives { _ = try FileDigest.sha256(ofFileAt: path) }
}
let images = Set(positives + negatives).count
var stateBytes = 0, fullBytes = 0
for path in Set(positives + negatives) {
    stateBytes += (try FileManager.default.attributesOfItem(atPath: try cache.statePath(for: path))[.size] as? Int) ?? 0
    fullBytes += (try FileManager.default.attributesOfItem(atPath: try cache.entryPath(for: path))[.size] as? Int) ?? 0
}
print("\(className) on \(images) images (\(positives.count) positives)")
print(String(format: "  from full entries:  %.2f s (report %.2f s), %.1f MB per image", fullSeconds, fromFull.report.seconds,
             Double(fullBytes) / Double(images) / 1e6))
print(String(format: "  from state entries: %.2f s (report %.2f s), %.3f MB per image", statesSeconds, fromStates.report.seconds,
             Double(stateBytes) / Double(images) / 1e6))
print(String(format: "  of which reading the %d state entries again: %.2f s (hashing the images for their keys: %.2f s)",
             images, readSeconds, digestSeconds))
print("  localizers bit-identical: \(fromStates.localizer == fromFull.localizer), reports' losses identical: "
    + "\(fromStates.report.epochLosses == fromFull.report.epochLosses)")
