import DivSeg
import DivSegCore
import DivSegIO
import Testing

@Suite("Evaluation: logits → full-resolution labels")
struct EvaluationLabelUpsamplerTests {
    /// The naive reference: materialise the resized logits, then a first-maximum argmax.
    static func reference(_ logits: Tensor, height: Int, width: Int) -> [UInt8] {
        let up = Resampler.resize(logits, height: height, width: width)
        let c = logits.shape[0], plane = height * width
        return (0..<plane).map { i in
            var best = up.scalars[i], arg = 0
            for ch in 1..<c where up.scalars[ch * plane + i] > best {
                best = up.scalars[ch * plane + i]
                arg = ch
            }
            return UInt8(arg)
        }
    }

    static func randomLogits(_ c: Int, _ h: Int, _ w: Int, seed: UInt64) -> Tensor {
        var random = EvaluationTestRandom(state: seed)
        return Tensor(shape: [c, h, w], scalars: (0..<(c * h * w)).map { _ in random.unit() * 8 - 4 })
    }

    @Test("equals full upsampling then argmax", arguments: [
        (5, 7, 9, 23, 31),      // upsampling, non-integer factors
        (3, 4, 4, 16, 16),      // exact ×4
        (4, 20, 30, 7, 11),     // downsampling (antialiased, as the resampler does)
        (6, 5, 8, 5, 8),        // same size: plain argmax
        (2, 1, 1, 3, 5),        // a single cell
    ])
    func matchesReference(c: Int, h: Int, w: Int, height: Int, width: Int) {
        let logits = Self.randomLogits(c, h, w, seed: UInt64(c * 1000 + h * 10 + w))
        let labels = LabelUpsampler.labels(fromLogits: logits, height: height, width: width)
        #expect(labels.width == width && labels.height == height)
        #expect(labels.labels == Self.reference(logits, height: height, width: width))
    }

    @Test("label ids map channels to labels")
    func labelIDs() {
        let logits = Self.randomLogits(3, 6, 6, seed: 9)
        let plain = LabelUpsampler.labels(fromLogits: logits, height: 20, width: 17)
        let mapped = LabelUpsampler.labels(fromLogits: logits, height: 20, width: 17, labelIDs: [0, 15, 2])
        #expect(mapped.labels == plain.labels.map { [0, 15, 2][Int($0)] })
        #expect(Set(plain.labels) == [0, 1, 2])
    }

    @Test("segmenter-sized logits: 23 × 64 × 84 → 480 × 640 matches the reference")
    func fullSize() {
        let logits = Self.randomLogits(23, 64, 84, seed: 3)
        let clock = ContinuousClock()
        var labels = LabelMap(width: 0, height: 0, labels: [])
        let elapsed = clock.measure {
            labels = LabelUpsampler.labels(fromLogits: logits, height: 480, width: 640)
        }
        print("LabelUpsampler 23×64×84 → 480×640: \(elapsed)")
        #expect(labels.labels == Self.reference(logits, height: 480, width: 640))
    }
}
