import DivSeg
import DivSegCore
import DivSegDatasets
import DivSegIO
import DivSegTestSupport
import Testing

/// The evaluator scores what the pipeline's prediction rules give, and with `oracleTags`
/// what `segment --tags` gives when the tags are those of each image's mask.
@Suite("SegmentationEvaluator with prediction rules and oracle tags")
struct SegmentationEvaluatorRulesTests {
    @Test("each image's matrix is that of the adjusted logits; oracle tags never predict a class absent from the mask")
    func rulesAndTags() throws {
        let (base, samples) = try SegmentationEvaluatorCancellationTests.fixture()
        let segmenter = base.pipeline.segmenter
        for (rules, oracle) in [(PredictionAdjustment.none, false), (.untagged, false), (.none, true), (.tagged, true)] {
            var evaluator = base
            if oracle { evaluator.pipeline.taggedAdjustment = rules } else { evaluator.pipeline.adjustment = rules }
            evaluator.oracleTags = oracle
            var expected = ConfusionMatrix(classCount: segmenter.classes.count)
            for sample in samples {
                let truth = try #require(try sample.groundTruth(classes: Array(segmenter.classes.dropFirst())))
                let present = Set(truth.labels)
                let allowed = oracle ? segmenter.classes.indices.map { $0 == 0 || present.contains(UInt8($0)) } : nil
                let logits = rules.apply(to: try segmenter.logits(try base.features!(sample.imagePath)), allowedChannels: allowed)
                let prediction = LabelUpsampler.labels(fromLogits: logits, height: truth.height, width: truth.width)
                if oracle {
                    #expect(Set(prediction.labels).isSubset(of: present.union([0])), "\(sample.id): an untagged class was predicted")
                }
                try expected.add(groundTruth: truth, prediction: prediction)
            }
            #expect(try evaluator.confusionMatrix(samples) == expected, "rules \(rules), oracle tags \(oracle)")
        }
    }
}
