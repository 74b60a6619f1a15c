// Segmenter and sampling benchmarks.
//
// `segmenter_train`: the paper's schedule (2 epochs, batches of 100 points, 512 hidden
// units) on synthetic points with the real input width (4224 hypercolumn channels + a 512
// global descriptor), 500k points by default — a large training run. Reports seconds and the
// GEMM throughput in GFLOP/s (sgemm peaks near 175 GFLOP/s on the 2-core reference machine).
// `segmenter_logits_64x84`: one image's logits (the per-image inference GEMM);
// `segmenter_logits_compact`: the same from per-group hypercolumns (2.4× fewer FLOPs).
// `sampling_diverse_image`: diverse sampling of 2 classes × 20 points + 20 background points
// on one image's features.
//
// Environment: DIVSEG_BENCH_POINTS (default 500000), DIVSEG_BENCH_GLOBAL (512),
// DIVSEG_BENCH_CLASSES (21, background included), DIVSEG_BENCH_OPTIMIZER (adam | momentum). Memory: points × 4736 × 4 bytes
// (9.5 GB for 500k).
import Benchmark
import DivSeg
import DivSegCore
import Foundation

let environment = ProcessInfo.processInfo.environment
let pointCount = Int(environment["DIVSEG_BENCH_POINTS"] ?? "") ?? 500_000
let globalCount = Int(environment["DIVSEG_BENCH_GLOBAL"] ?? "") ?? 512
let classCount = Int(environment["DIVSEG_BENCH_CLASSES"] ?? "") ?? 21
let optimizer = SegmenterTrainer.Optimizer(rawValue: environment["DIVSEG_BENCH_OPTIMIZER"] ?? "adam") ?? .adam
let channels = FeatureGrid.channels
let dimension = channels + globalCount

func log(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

/// Keeps a result alive so the optimiser cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

/// Non-negative synthetic activations whose scale differs by dimension (like VGG layers),
/// generated in fixed blocks so the data is the same on every run.
func syntheticMatrix(rows: Int, columns: Int, seed: UInt64) -> [Float] {
    let scales = (0..<columns).map { Float(1 << ($0 % 7)) }
    return [Float](unsafeUninitializedCapacity: rows * columns) { buffer, initialized in
        let blocks = 64
        Parallel.forEachChunk(of: 0..<blocks) { range in
            for block in range {
                var rng = SplitMix64(seed: seed &+ UInt64(block) &* 0x9E37_79B9)
                let lo = rows * block / blocks, hi = rows * (block + 1) / blocks
                for r in lo..<hi {
                    let row = buffer.baseAddress! + r * columns
                    for c in 0..<columns {
                        let u = Float(rng.next() >> 40) / Float(1 << 24)
                        row[c] = u < 0.5 ? 0 : (u - 0.5) * scales[c]
                    }
                }
            }
        }
        initialized = rows * columns
    }
}

log("building \(pointCount) synthetic points × \(dimension) values "
    + String(format: "(%.1f GB)", Double(pointCount * dimension) * 4 / 1e9))
let trainingSet: SegmenterTrainingSet
do {
    var rng = SplitMix64(seed: 1)
    let labels = (0..<pointCount).map { _ in Int32(rng.next() % UInt64(classCount)) }
    trainingSet = try SegmenterTrainingSet(
        features: syntheticMatrix(rows: pointCount, columns: dimension, seed: 2),
        labels: labels, featureChannels: channels, globalCount: globalCount)
} catch {
    log("benchmark setup failed: \(error)")
    exit(1)
}
let classes = ["background"] + (1..<classCount).map { "class\($0)" }
let image = Tensor(shape: [channels, FeatureGrid.height, FeatureGrid.width],
                   scalars: syntheticMatrix(rows: channels, columns: FeatureGrid.locations, seed: 3))
let imageGlobal = Array(syntheticMatrix(rows: 1, columns: globalCount, seed: 4))

// A small trained model for the inference benchmark (weights do not affect its speed).
let smallSet = try! SegmenterTrainingSet(
    features: Array(trainingSet.features.prefix(2000 * dimension)),
    labels: Array(trainingSet.labels.prefix(2000)), featureChannels: channels, globalCount: globalCount)
let model = try! SegmenterTrainer(epochs: 1).train(on: smallSet, classes: classes).segmenter

benchmark("segmenter_train", settings: Iterations(1), WarmupIterations(0)) {
    var lastShown = -1
    let trainer = SegmenterTrainer(optimizer: optimizer)
    let (segmenter, report) = try trainer.train(on: trainingSet, classes: classes) { p in
        let percent = Int(p.fraction * 100)
        if percent / 10 != lastShown / 10 {
            lastShown = percent
            let eta = p.fraction > 0 ? p.seconds / p.fraction - p.seconds : 0
            log(String(format: "  %3d%%  loss %.4f  %.0f s elapsed, ETA %.0f s", percent, p.loss, p.seconds, eta))
        }
    }
    blackHole(segmenter)
    log(String(format: "segmenter_train (\(optimizer.rawValue)): %d points × %d epochs in %.1f s, %.1f GFLOP → %.1f GFLOP/s; epoch losses %@",
               report.pointCount, report.epochLosses.count, report.seconds, report.flops / 1e9,
               report.flops / report.seconds / 1e9, report.epochLosses.map { String(format: "%.4f", $0) }.joined(separator: ", ")))
}

benchmark("segmenter_logits_64x84") {
    blackHole(try model.logits(hypercolumns: image, global: imageGlobal))
}

let compact = CompactHypercolumns(
    grid: Tensor(shape: [1152, 64, 84], scalars: syntheticMatrix(rows: 1152, columns: 64 * 84, seed: 5)),
    block4: Tensor(shape: [1536, 32, 42], scalars: syntheticMatrix(rows: 1536, columns: 32 * 42, seed: 6)),
    block5: Tensor(shape: [1536, 16, 21], scalars: syntheticMatrix(rows: 1536, columns: 16 * 21, seed: 7)),
    global: imageGlobal)
benchmark("segmenter_logits_compact") {
    blackHole(try model.logits(compact))
}

let similarity = try! FeatureSimilarity(hypercolumns: image)
let scoreMaps: [(label: Int, scores: [Float])] = (1...2).map { label in
    var rng = SplitMix64(seed: UInt64(10 + label))
    return (label: label, scores: (0..<FeatureGrid.locations).map { _ in rng.nextFloat() })
}

benchmark("feature_similarity_normalise") {
    blackHole(try FeatureSimilarity(hypercolumns: image))
}

benchmark("sampling_diverse_image") {
    blackHole(try PointSampler().samplePoints(classScores: scoreMaps, similarity: similarity))
}

main()
