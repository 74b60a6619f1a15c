import DivSeg
import DivSegCore
import DivSegDatasets
import DivSegTestSupport
import Testing

/// ``SegmentationEvaluator/run(_:progress:)`` with a ``CancellationToken``: stops between
/// images with the matrix of the images done.
@Suite("SegmentationEvaluator cancellation")
struct SegmentationEvaluatorCancellationTests {
    /// The three real images of the CRF fixture, their cached features and the fitted segmenter.
    static func fixture() throws -> (SegmentationEvaluator, [DatasetSample]) {
        let (segmenter, cases) = try DenseCRFPipelineTests.fixture()
        let ids = Set(cases.map(\.id))
        let samples = try Dataset.open(spec: "coco:" + CRFFixture.dataRoot).samples.filter { ids.contains($0.id) }
            .sorted { $0.id < $1.id }
        let byPath = Dictionary(uniqueKeysWithValues: zip(samples.map(\.imagePath),
                                                          cases.sorted { $0.id < $1.id }.map(\.compact)))
        let pipeline = SegmentationPipeline(extractor: try HypercolumnExtractor(weightsAt: SharedData.weights), segmenter: segmenter)
        return (SegmentationEvaluator(pipeline: pipeline, features: { byPath[$0]! }), samples)
    }

    @Test("cancelled during the first image: stops before the second, with the first image's matrix")
    func stopsBetweenImages() throws {
        var (evaluator, samples) = try Self.fixture()
        #expect(samples.count == 3)
        let token = CancellationToken()
        evaluator.cancellation = token
        var seen: [Int] = []
        let run = try evaluator.run(samples) { done, _ in
            seen.append(done)
            token.cancel(reason: .interrupt)           // "Ctrl-C" while image 1 was evaluated
        }
        #expect(seen == [1])
        #expect(run.interrupted && run.imagesDone == 1 && run.imagesTotal == 3)
        evaluator.cancellation = nil
        #expect(run.matrix == (try evaluator.confusionMatrix(Array(samples.prefix(1)))))
        #expect(run.matrix != (try evaluator.confusionMatrix(samples)), "the partial matrix must leave the other images out")
    }

    @Test("a token cancelled before the start: run does nothing, confusionMatrix still every image; never cancelled: every image")
    func beforeAndNever() throws {
        var (evaluator, samples) = try Self.fixture()
        let token = CancellationToken()
        evaluator.cancellation = token
        let full = try evaluator.run(samples)
        #expect(!full.interrupted && full.imagesDone == samples.count)
        #expect(full.matrix == (try evaluator.confusionMatrix(samples)))
        token.cancel()
        let none = try evaluator.run(samples)
        #expect(none.interrupted && none.imagesDone == 0)
        #expect(none.matrix == ConfusionMatrix(classCount: evaluator.pipeline.segmenter.classes.count))
        // Only run(_:) reports a partial result; the matrix and scores APIs always do every image.
        #expect(try evaluator.confusionMatrix(samples) == full.matrix)
    }
}
