import DivSeg
import DivSegRegistry
import Testing

@Suite("Sample keys: issue #11 settings")
struct SampleKeyTests {
    @Test("flipped score maps change every key; the default augmentation leaves the keys of older stores unchanged")
    func augmentation() {
        let sampler = SegmenterRetrainer.defaultSampler
        let plain = SampleKey.Context(sampler: sampler, weightsSHA256: "w", featureRule: "r")
        let explicit = SampleKey.Context(sampler: sampler, weightsSHA256: "w", featureRule: "r",
                                         augmentation: ScoreMapAugmentation())
        let flipped = SampleKey.Context(sampler: sampler, weightsSHA256: "w", featureRule: "r",
                                        augmentation: ScoreMapAugmentation(flip: true))
        #expect(explicit == plain)
        #expect(!plain.text.contains("maps="))
        #expect(flipped != plain)
        let identity = SampleKey.LocalizerIdentity(sha256: "l", scoreScale: 1)
        let key = { (context: SampleKey.Context) in
            SampleKey.dense(image: "i", classes: [("cat", identity)], label: "cat", context: context).digest
        }
        #expect(key(flipped) != key(plain))
    }

    @Test("refined labels change every dense key; no refinement leaves the keys byte-identical; other samplings ignore it")
    func refinement() {
        let sampler = SegmenterRetrainer.defaultSampler
        let plain = SampleKey.Context(sampler: sampler, weightsSHA256: "w", featureRule: "r")
        let none = SampleKey.Context(sampler: sampler, weightsSHA256: "w", featureRule: "r", refinement: LabelRefinement())
        let crf = SampleKey.Context(sampler: sampler, weightsSHA256: "w", featureRule: "r",
                                    refinement: LabelRefinement(method: .crf))
        var weakerSettings = LabelRefinement(method: .crf)
        weakerSettings.crf.bilateralWeight = 1
        let weaker = SampleKey.Context(sampler: sampler, weightsSHA256: "w", featureRule: "r", refinement: weakerSettings)
        #expect(none == plain && none.text == plain.text)
        #expect(!plain.text.contains("labels="))
        #expect(crf.text.contains(";labels=crf"))
        #expect(crf != plain && weaker != crf)
        let identity = SampleKey.LocalizerIdentity(sha256: "l", scoreScale: 1)
        let key = { (context: SampleKey.Context, label: String) in
            SampleKey.dense(image: "i", classes: [("cat", identity)], label: label, context: context).digest
        }
        for label in ["cat", "background"] {
            #expect(key(crf, label) != key(plain, label))
            #expect(key(crf, label) != key(weaker, label))
        }
        // The paper's diverse picks are not refined: the setting must not split their store.
        let diverse = PointSampler()
        #expect(SampleKey.Context(sampler: diverse, weightsSHA256: "w", featureRule: "r", refinement: LabelRefinement(method: .crf))
                == SampleKey.Context(sampler: diverse, weightsSHA256: "w", featureRule: "r"))
    }
}
