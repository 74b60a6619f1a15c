import DivSeg
import DivSegCore
import DivSegIO
import DivSegTestSupport
import Testing

/// The method's results at every vector-kernel level this machine supports (see
/// ``SIMDKernels``) against the portable path, on real data. The kernel-level tolerances are
/// argued in DivSegCoreTests/Vector/SIMDKernelsTests.swift.
@Suite("SIMD levels: the method's results at every level", .serialized)
struct SIMDLevelTests {
    /// The Winograd transforms only add, in the same order at every level, and the rest of
    /// the backbone is the same code: the hypercolumns must be bit-identical.
    @Test("hypercolumns of a real image are identical at every level")
    func hypercolumns() throws {
        let extractor = try HypercolumnExtractorTests.extractor.get()
        let image = try ImageDecoder.decodeRGB(contentsOf: "\(SharedData.referenceDir)/000000000061_256x336.png")
        let input = HypercolumnExtractor.networkInput(for: image)
        let reference = SIMDKernels.withLevel(.scalar) { HypercolumnExtractor.assemble(extractor.backbone.convolutionMaps(input)) }
        for level in SIMDKernels.availableLevels.dropFirst() {
            let features = SIMDKernels.withLevel(level) { HypercolumnExtractor.assemble(extractor.backbone.convolutionMaps(input)) }
            #expect(features == reference, "\(level)")
        }
    }

    /// Levels differ at float rounding in the exp and the lattice sums (~1e-7 relative); ten
    /// iterations with weight 10 amplify that near label ties, as the parallel-versus-serial
    /// test's different summation order does, so the same bound applies: 1e-4 per marginal.
    @Test("dense CRF on a real 500×375 image with 21 labels agrees with the scalar path at every level")
    func denseCRF() throws {
        let image = try CRFFixture.image("000000000077")
        var rng = SplitMix64(seed: 3)
        let logits = Tensor(shape: [21, 64, 84], scalars: (0..<(21 * 64 * 84)).map { _ in 3 * rng.nextGaussian() })
        let crf = try DenseCRF(parallel: true)
        let (p, reference) = try SIMDKernels.withLevel(.scalar) {
            let p = LabelUpsampler.probabilities(fromLogits: logits, height: image.height, width: image.width)
            return (p, try crf.infer(image: image, probabilities: p))
        }
        for level in SIMDKernels.availableLevels.dropFirst() {
            let (q, marginals) = try SIMDKernels.withLevel(level) {
                let q = LabelUpsampler.probabilities(fromLogits: logits, height: image.height, width: image.width)
                return (q, try crf.infer(image: image, probabilities: p))
            }
            var worstInput: Float = 0, worst: Float = 0
            for i in 0..<p.count {
                worstInput = max(worstInput, abs(q.scalars[i] - p.scalars[i]))
                worst = max(worst, abs(marginals.scalars[i] - reference.scalars[i]))
            }
            // The softmax's exp: a few ulp of probabilities ≤ 1.
            #expect(worstInput < 1e-6, "\(level): softmax max difference \(worstInput)")
            #expect(worst < 1e-4, "\(level): marginals max difference \(worst)")
        }
    }

    @Test("dense CRF matches pydensecrf2 at every level")
    func referenceAtEveryLevel() throws {
        for level in SIMDKernels.availableLevels {
            try SIMDKernels.withLevel(level) { try DenseCRFTests().referenceImplementation() }
        }
    }
}
