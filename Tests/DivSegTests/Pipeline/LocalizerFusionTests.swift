import DivSeg
import DivSegCore
import DivSegMethodTestSupport
import DivSegTestSupport
import Testing

/// ``LocalizerFusion`` and ``SegmentationPipeline/localizerFusion`` (issue #11, lever 9): each
/// class's localizer map, times the weight, added to that class's logit before the rules.
@Suite("LocalizerFusion")
struct LocalizerFusionTests {
    /// A CAM-style localizer with seeded weights (what matters is that its map is not flat).
    static func localizer(_ name: String, seed: UInt64) throws -> AveragePooledLocalizer {
        var rng = SplitMix64(seed: seed)
        let k = CompactHypercolumns.block5Conv3Channels.count
        return try AveragePooledLocalizer(className: name, weights: rng.floats(k).map { $0 - 0.5 }, bias: -1,
                                          inputScale: [Float](repeating: 1, count: k), scoreScale: 2)
    }

    @Test("a channel with a localizer gains weight × its map; background and nil channels are untouched; weight 0 changes nothing")
    func addsWeightedMaps() throws {
        let features = LocalizerFixture.randomFeatures(seed: 7)
        let giraffe = try Self.localizer("giraffe", seed: 1)
        let plane = FeatureGrid.height * FeatureGrid.width
        var rng = SplitMix64(seed: 3)
        let logits = Tensor(shape: [3, FeatureGrid.height, FeatureGrid.width], scalars: rng.floats(3 * plane))
        let fusion = LocalizerFusion(localizers: [nil, giraffe, nil], weight: 4)
        let fused = fusion.apply(to: logits, features: features)
        let map = giraffe.score(features, kind: .foreground)
        #expect(map.min()! < 0 && map.max()! > 0, "the test needs a map of both signs")
        #expect(Array(fused.scalars[0..<plane]) == Array(logits.scalars[0..<plane]))
        #expect(Array(fused.scalars[(2 * plane)...]) == Array(logits.scalars[(2 * plane)...]))
        for i in 0..<plane { #expect(fused.scalars[plane + i] == logits.scalars[plane + i] + 4 * map[i]) }
        #expect(LocalizerFusion(localizers: [nil, giraffe, nil], weight: 0).apply(to: logits, features: features) == logits)
        #expect(LocalizerFusion(localizers: [nil, giraffe, nil]).weight == LocalizerFusion.defaultWeight)
    }

    @Test("the pipeline adds the maps from the image as from its features, and before the rules")
    func pipelineFusesBeforeTheRules() throws {
        var (pipeline, image) = try SegmentationPipelineFlipTests.croppedImagePipeline()
        let (segmenter, extractor) = (pipeline.segmenter, pipeline.extractor)
        let (_, cases) = try DenseCRFPipelineTests.fixture()
        let fusion = LocalizerFusion(localizers: [nil, try Self.localizer(segmenter.classes[1], seed: 5), nil])
        pipeline.localizerFusion = fusion
        let compact = extractor.extractCompact(from: image)
        let fromImage = try pipeline.logits(image)
        #expect(fromImage == fusion.apply(to: try segmenter.logits(compact), features: compact))
        #expect(fromImage == (try pipeline.logits(features: compact, mirrorFeatures: nil)))
        // The rules act on the fused logits.
        let features = try #require(cases.first).compact
        let fused = try pipeline.logits(features: features, mirrorFeatures: nil)
        #expect(try pipeline.adjustedLogits(fused) == pipeline.adjustment.apply(to: fused, allowedChannels: nil))
        pipeline.localizerFusion = nil
        #expect(try pipeline.logits(features: features, mirrorFeatures: nil) == (try segmenter.logits(features)))
        #expect(fused != (try segmenter.logits(features)), "the maps must change the logits")
    }
}
