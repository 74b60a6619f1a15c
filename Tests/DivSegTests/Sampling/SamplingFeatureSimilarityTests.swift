import DivSeg
import DivSegCore
import Testing

@Suite("Sampling: feature similarity on real hypercolumns")
struct SamplingFeatureSimilarityTests {
    @Test("similarities are cosines of the raw hypercolumns, by GEMV, GEMM and dot product alike")
    func cosine() throws {
        let image = try RealPointsFixture.cases.get()[0]
        let similarity = image.similarity
        let x = image.features.features
        #expect(similarity.locationCount == FeatureGrid.locations)
        #expect(similarity.dimension == FeatureGrid.channels)
        let probes = [0, 1234, 2700, 5375]
        func rawColumn(_ i: Int) -> [Double] {
            (0..<FeatureGrid.channels).map { Double(x.scalars[$0 * FeatureGrid.locations + i]) }
        }
        let many = similarity.similarities(toEach: probes)
        for (k, a) in probes.enumerated() {
            let column = similarity.similarities(to: a)
            #expect(abs(column[a] - 1) < 1e-4)
            let va = rawColumn(a)
            let na = va.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for b in probes + [17, 4000] {
                let vb = rawColumn(b)
                let nb = vb.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let cosine = Float(zip(va, vb).reduce(0) { $0 + $1.0 * $1.1 } / (na * nb))
                #expect(abs(column[b] - cosine) < 1e-4, "GEMV \(a)·\(b)")
                #expect(abs(similarity.similarity(a, b) - cosine) < 1e-4, "dot \(a)·\(b)")
                #expect(abs(many[k * FeatureGrid.locations + b] - cosine) < 1e-4, "GEMM \(a)·\(b)")
            }
        }
        let maxima = try #require(similarity.maximumSimilarities(to: probes))
        for i in [5, 999, 3333] {
            let expected = probes.map { similarity.similarity(i, $0) }.max()!
            #expect(abs(maxima[i] - expected) < 1e-4)
        }
        #expect(similarity.maximumSimilarities(to: []) == nil)
        let unit = similarity.unitVector(at: 42)
        #expect(abs(unit.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
    }

    @Test("a tensor that is not [C, H, W] is refused")
    func refusesBadShapes() {
        #expect(throws: SamplingError.invalidFeatures(shape: [4, 5])) {
            try FeatureSimilarity(hypercolumns: Tensor(zeros: [4, 5]))
        }
        #expect(throws: SamplingError.invalidFeatures(shape: [4, 0, 3])) {
            try FeatureSimilarity(hypercolumns: Tensor(zeros: [4, 0, 3]))
        }
    }

    @Test("all-zero locations stay zero and are similar to nothing")
    func zeroVectors() throws {
        var t = Tensor(zeros: [3, 2, 2])
        t[0, 0, 0] = 2; t[1, 0, 1] = 5; t[2, 1, 0] = 1; t[0, 1, 0] = 1
        let s = try FeatureSimilarity(hypercolumns: t)
        #expect(s.similarities(to: 3) == [0, 0, 0, 0])
        #expect(abs(s.similarity(0, 2) - Float(1 / 2.0.squareRoot())) < 1e-6)
        #expect(s.similarity(0, 1) == 0)
    }
}
