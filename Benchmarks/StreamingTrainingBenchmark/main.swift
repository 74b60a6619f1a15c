// Segmenter training on more rows than fit in memory (issue #14 item 3): synthetic rows of
// the real width (4224 hypercolumn + 512 global values, 21 classes), one block per "image"
// of 336 rows, trained by SegmenterTrainer.train(streaming:maxMemory:…).
//
//   swift build -c release --product StreamingTrainingBenchmark
//   /usr/bin/time -v .build/release/StreamingTrainingBenchmark --rows 5000000 --max-memory 4G --epochs 1
//
// Peak RSS comes from /usr/bin/time -v; the program prints rows, seconds and losses.
import DivSeg
import DivSegCore
import Foundation

struct SyntheticRows: SegmenterRowSource {
    let featureChannels = FeatureGrid.channels
    let globalCount = 512
    let rows: Int
    let rowsPerBlock = 336
    let classes: Int
    /// Prototype rows, `variants` per class; a row is one of them, so blocks cost a copy.
    let prototypes: [Float]
    let variants = 8

    init(rows: Int, classes: Int) {
        self.rows = rows
        self.classes = classes
        var rng = SplitMix64(seed: 42)
        let d = FeatureGrid.channels + 512, variants = 8
        prototypes = (0..<(classes * variants * d)).map { i in
            let label = i / (variants * d)
            // Post-ReLU-like: non-negative, a class-dependent bump on some channels.
            let base = max(0, rng.nextGaussian())
            return (i % d) % classes == label ? base + 1 : base
        }
    }

    var blockCount: Int { (rows + rowsPerBlock - 1) / rowsPerBlock }
    func rowCount(ofBlock index: Int) -> Int { min(rowsPerBlock, rows - index * rowsPerBlock) }

    func block(_ index: Int) throws -> (features: [Float], labels: [Int32]) {
        let d = featureChannels + globalCount, n = rowCount(ofBlock: index)
        var rng = SplitMix64(seed: UInt64(index) &* 0x9E37_79B9 &+ 1)
        var features = [Float](repeating: 0, count: n * d)
        var labels = [Int32](repeating: 0, count: n)
        prototypes.withUnsafeBufferPointer { p in
            features.withUnsafeMutableBufferPointer { out in
                for r in 0..<n {
                    let pick = Int(rng.next() % UInt64(classes * variants))
                    labels[r] = Int32(pick / variants)
                    (out.baseAddress! + r * d).update(from: p.baseAddress! + pick * d, count: d)
                }
            }
        }
        return (features, labels)
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
func value(_ name: String, _ fallback: String, in arguments: [String] = arguments) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}
let rows = Int(value("--rows", "5000000"))!
let cap = try MemorySize(parsing: value("--max-memory", "4G"))
var trainer = SegmenterTrainer()
trainer.epochs = Int(value("--epochs", "1"))!
let classes = ["background"] + (1..<21).map { "class\($0)" }
let source = SyntheticRows(rows: rows, classes: classes.count)
print("rows \(source.rowCount) in \(source.blockCount) blocks, \(source.dimension) values each "
    + "(\(MemorySize(bytes: source.rowCount * source.dimension * 4)) as float32); cap \(cap); epochs \(trainer.epochs)")
let start = Date()
var lastPrint = Date()
let (_, report) = try trainer.train(streaming: source, maxMemory: cap, classes: classes) { p in
    if Date().timeIntervalSince(lastPrint) > 30 {
        lastPrint = Date()
        print(String(format: "  %.1f %% after %.0f s, loss %.4f", p.fraction * 100, p.seconds, p.loss))
        FileHandle.standardOutput.synchronizeFile()
    }
}
print(String(format: "trained %d rows in %.1f s (%.0f rows/s), epoch losses %@", report.pointCount,
             Date().timeIntervalSince(start), Double(report.pointCount * trainer.epochs) / Date().timeIntervalSince(start),
             report.epochLosses.map { String(format: "%.4f", $0) }.joined(separator: ", ")))
