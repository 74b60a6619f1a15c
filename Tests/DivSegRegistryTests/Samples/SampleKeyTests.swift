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
}
