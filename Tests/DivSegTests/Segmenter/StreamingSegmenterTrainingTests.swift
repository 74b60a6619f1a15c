import DivSeg
import DivSegCore
import Testing

/// Bounded-memory segmenter training (issue #14 item 3).
@Suite("SegmenterTrainer.train(streaming:maxMemory:): rows in shuffled blocks under a memory cap")
struct StreamingSegmenterTrainingTests {
    /// Blocks of random rows (8 hypercolumn + 3 global values), labels 0…2 tied to the values.
    struct Blocks: SegmenterRowSource {
        let featureChannels = 8
        let globalCount = 3
        var sizes: [Int]
        var reads = Counter()

        final class Counter: @unchecked Sendable { var count = 0 }

        var blockCount: Int { sizes.count }
        func rowCount(ofBlock index: Int) -> Int { sizes[index] }
        func block(_ index: Int) throws -> (features: [Float], labels: [Int32]) {
            reads.count += 1
            var rng = SplitMix64(seed: UInt64(index) + 1)
            var features: [Float] = [], labels: [Int32] = []
            for _ in 0..<sizes[index] {
                let label = Int32(rng.next() % 3)
                labels.append(label)
                features += (0..<11).map { j in rng.nextGaussian() + (j % 3 == Int(label) ? 2 : 0) }
            }
            return (features, labels)
        }

        var set: SegmenterTrainingSet {
            get throws {
                var features: [Float] = [], labels: [Int32] = []
                for i in 0..<blockCount { let b = try block(i); features += b.features; labels += b.labels }
                return try SegmenterTrainingSet(features: features, labels: labels, featureChannels: 8, globalCount: 3)
            }
        }
    }

    static let classes = ["background", "a", "b"]

    static func trainer() -> SegmenterTrainer {
        var trainer = SegmenterTrainer(hiddenUnits: 16, epochs: 3, batchSize: 10)
        trainer.seed = 5
        return trainer
    }

    static func weights(_ s: Segmenter) -> [[Float]] {
        let p = s.parameters
        return [p.hiddenWeights, p.hiddenBias, p.outputWeights, p.outputBias, p.inputMean, p.inputStd]
    }

    @Test("when every row fits under the cap, the weights equal in-memory training bit for bit")
    func fitsIsIdentical() throws {
        let source = Blocks(sizes: [30, 7, 45, 12, 60])
        let inMemory = try Self.trainer().train(on: try source.set, classes: Self.classes)
        let capped = try Self.trainer().train(streaming: source, maxMemory: MemorySize(bytes: 1 << 30), classes: Self.classes)
        #expect(Self.weights(capped.segmenter) == Self.weights(inMemory.segmenter))
        #expect(capped.report.epochLosses == inMemory.report.epochLosses)
    }

    @Test("under a cap smaller than the rows, training streams blocks: same statistics, every row each epoch, it learns")
    func streams() throws {
        let source = Blocks(sizes: Array(repeating: 40, count: 25))
        let d = source.dimension, rowBytes = d * 4 + 4
        let reserve = SegmenterTrainer.memoryReserve(inputs: d, hidden: 16, classes: 3, largestBlock: source.largestBlock)
        // Room for 3 blocks of 40 rows: 1000 rows do not fit.
        let cap = MemorySize(bytes: reserve + 3 * 40 * rowBytes)
        var fractions: [Double] = []
        let streamed = try Self.trainer().train(streaming: source, maxMemory: cap, classes: Self.classes) { fractions.append($0.fraction) }
        let inMemory = try Self.trainer().train(on: try source.set, classes: Self.classes)
        #expect(Self.weights(streamed.segmenter) != Self.weights(inMemory.segmenter), "the streamed path ran")
        // Statistics pass + one read of every block per epoch.
        #expect(source.reads.count == 25 * (1 + 3) + 25)   // + 25 for the in-memory set above
        #expect(fractions.last == 1)
        #expect(streamed.report.pointCount == 1000 && streamed.report.epochLosses.count == 3)
        let (mean, std) = try source.set.statistics()
        let p = streamed.segmenter.parameters
        for j in 0..<d {
            #expect(abs(p.inputMean[j] - mean[j]) <= 1e-5 * max(1, abs(mean[j])))
            #expect(abs(p.inputStd[j] - std[j]) <= 1e-5 * max(1, std[j]))
        }
        // It learns: the loss falls, and it labels its training rows mostly right.
        #expect(streamed.report.epochLosses.last! < streamed.report.epochLosses.first!)
        let accuracy = try streamed.segmenter.accuracy(on: try source.set)
        #expect(accuracy > 0.8, "accuracy \(accuracy)")
    }

    @Test("a cap below one block plus the reserve is refused with the minimum; an empty source too")
    func refuses() throws {
        let source = Blocks(sizes: [50, 50])
        #expect(throws: SegmenterError.self) {
            try Self.trainer().train(streaming: source, maxMemory: MemorySize(bytes: 1 << 20), classes: Self.classes)
        }
        do {
            _ = try Self.trainer().train(streaming: source, maxMemory: MemorySize(bytes: 1 << 20), classes: Self.classes)
        } catch {
            #expect("\(error)".contains("maxMemory") && "\(error)".contains("at least"))
        }
        #expect(throws: SegmenterError.emptyTrainingSet) {
            try Self.trainer().train(streaming: Blocks(sizes: []), maxMemory: MemorySize(bytes: 1 << 30), classes: Self.classes)
        }
    }
}
