@_spi(Testing) import DivSeg
import DivSegCore
import DivSegDatasets
import DivSegIO
import DivSegTestSupport
import Testing

/// ``SegmentationPipeline/testTimeFlip`` (`segment --tta`, `evaluate --tta`): the mean of the
/// image's logits and its mirror image's, mirrored back — on real images, the real backbone
/// and the segmenter fitted on real points.
@Suite("SegmentationPipeline test-time flip")
struct SegmentationPipelineFlipTests {
    static func mirroredColumns(_ logits: Tensor) -> Tensor {
        Tensor(shape: logits.shape,
               scalars: ScoreMapAugmentation.mirrored(logits.scalars, width: logits.shape[logits.rank - 1]))
    }

    /// The fitted segmenter, the real backbone, and a crop of a real image (not symmetric by
    /// accident, and quick to run) with the plain pipeline of the two.
    static func croppedImagePipeline() throws -> (pipeline: SegmentationPipeline, image: Image) {
        let (segmenter, _) = try DenseCRFPipelineTests.fixture()
        let extractor = try HypercolumnExtractor(weightsAt: SharedData.weights)
        let image = CRFFixture.crop(try CRFFixture.image("000000000025"), x: 40, y: 30, width: 336, height: 256)
        return (SegmentationPipeline(extractor: extractor, segmenter: segmenter), image)
    }

    @Test("with the flip, the logits of the mirror image are the image's own mirrored, exactly; without it they are the segmenter's")
    func flipEquivariance() throws {
        var (pipeline, image) = try Self.croppedImagePipeline()
        let (segmenter, extractor) = (pipeline.segmenter, pipeline.extractor)
        let plain = try pipeline.logits(image)
        #expect(plain == (try segmenter.logits(extractor.extract(from: image))))
        pipeline.testTimeFlip = true
        let flipped = try pipeline.logits(image)
        let ofMirror = try pipeline.logits(FeatureCache.mirrored(image))
        // Averaging is symmetric in the two views, so this holds bit for bit; a mirror step
        // left out or done twice breaks it.
        #expect(Self.mirroredColumns(ofMirror) == flipped)
        #expect(flipped != plain, "the flip must change the logits of a real, asymmetric image")
        let mirrorPlain = try segmenter.logits(extractor.extract(from: FeatureCache.mirrored(image)))
        #expect(flipped == SegmentationPipeline.mean(plain, mirror: mirrorPlain))
    }

    @Test("the evaluator takes the mirror features from its provider, or computes them from the image: the same matrix")
    func evaluatorMirrorFeatures() throws {
        var (evaluator, samples) = try SegmentationEvaluatorCancellationTests.fixture()
        let plain = try evaluator.confusionMatrix(samples)
        evaluator.pipeline.testTimeFlip = true
        let computed = try evaluator.confusionMatrix(samples)
        let extractor = evaluator.pipeline.extractor
        evaluator.mirrorFeatures = { path in
            extractor.extractCompact(from: FeatureCache.mirrored(try ImageDecoder.decodeRGB(contentsOf: path)))
        }
        #expect(try evaluator.confusionMatrix(samples) == computed)
        #expect(computed != plain, "the flip must change some predicted pixel of the three images")
        #expect(computed.countedPixels == plain.countedPixels)
    }
}
