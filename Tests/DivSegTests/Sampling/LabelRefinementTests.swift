import DivSeg
import DivSegIO
import Testing

@Suite("Label refinement: CRF-refined training labels (issue #11, lever 1)")
struct LabelRefinementTests {
    /// An 8×8 grid (a 32×32 image): red in grid columns 0–2, blue in 3–7. Class 1's map is
    /// the blob of the red region blurred one column into the blue one (0.3 there, just
    /// above the 0.2 threshold), as a coarse localizer map is.
    static let grid = 8
    static let image: Image = {
        let side = grid * LabelRefinement.cellSize
        var pixels: [UInt8] = []
        for _ in 0..<side {
            for x in 0..<side { pixels += x < 3 * LabelRefinement.cellSize ? [220, 30, 30] : [30, 30, 220] }
        }
        return Image(width: side, height: side, channels: 3, pixels: pixels)
    }()
    static let blurry: [Float] = (0..<grid * grid).map { i in
        switch i % grid {
        case 0..<3: return 1
        case 3: return 0.3
        default: return 0
        }
    }
    /// The reference CRF kernels (bilateral weight 10) with logit scale 5: strong enough
    /// pairwise terms for the test's one-column blur on a 32×32 image.
    static let reference: LabelRefinement = {
        var crf = DenseCRFParameters()
        crf.logitScale = 5
        return LabelRefinement(method: .crf, crf: crf)
    }()
    static func columns(_ labels: [Int]) -> [[Int]] {
        (0..<grid).map { row in Array(labels[row * grid..<(row + 1) * grid]) }
    }

    @Test("a blurry map over two colour regions: refined labels follow the colour edge, plain ones the blur")
    func followsColourEdge() throws {
        let scores = [(label: 1, scores: Self.blurry)]
        let plain = try LabelRefinement().labels(image: Self.image, scores: scores, threshold: 0.2, background: .threshold,
                                                 gridHeight: Self.grid, gridWidth: Self.grid)
        let refined = try Self.reference.labels(image: Self.image, scores: scores, threshold: 0.2,
                                                               background: .threshold, gridHeight: Self.grid, gridWidth: Self.grid)
        // Plain: the threshold's rule, the blur's extra column included (PointSampler agrees).
        for row in Self.columns(plain) { #expect(row == [1, 1, 1, 1, 0, 0, 0, 0]) }
        let sampler = PointSampler(strategy: .dense)
        #expect(try sampler.denseLabels(scores: scores, locationCount: Self.grid * Self.grid) == plain)
        // Refined: the blue column goes to background; the red region stays the class.
        for row in Self.columns(refined) { #expect(row == [1, 1, 1, 0, 0, 0, 0, 0]) }
        // No mean-field update: the unaries alone, i.e. the plain labels.
        var still = Self.reference
        still.crf.iterations = 0
        #expect(try still.labels(image: Self.image, scores: scores, threshold: 0.2, background: .threshold,
                                 gridHeight: Self.grid, gridWidth: Self.grid) == plain)
    }

    @Test("exhaustive classes (background none): two blurry maps meet at the colour edge, no background")
    func exhaustive() throws {
        // Class 2: the blue region, weaker than class 1's blur in the column next to the edge.
        let other: [Float] = (0..<Self.grid * Self.grid).map { i in
            switch i % Self.grid {
            case 0..<3: return 0
            case 3: return 0.2
            default: return 1
            }
        }
        let scores = [(label: 1, scores: Self.blurry), (label: 2, scores: other)]
        let plain = try LabelRefinement().labels(image: Self.image, scores: scores, threshold: 0.2, background: .none,
                                                 gridHeight: Self.grid, gridWidth: Self.grid)
        for row in Self.columns(plain) { #expect(row == [1, 1, 1, 1, 2, 2, 2, 2]) }
        let refined = try Self.reference.labels(image: Self.image, scores: scores, threshold: 0.2,
                                                               background: .none, gridHeight: Self.grid, gridWidth: Self.grid)
        for row in Self.columns(refined) { #expect(row == [1, 1, 1, 2, 2, 2, 2, 2]) }
        #expect(try Self.reference.labels(image: Self.image, scores: [], threshold: 0.2, background: .none,
                                                         gridHeight: Self.grid, gridWidth: Self.grid)
                .allSatisfy { $0 == PointSampler.ignoredLabel })
    }

    @Test("dense points of the 64×84 grid: the stride's locations with the refined labels; bad maps are refused")
    func densePoints() throws {
        // A photo-sized image (resized to the 256×336 input) with the class on its left half.
        let (width, height) = (160, 120)
        var pixels: [UInt8] = []
        for _ in 0..<height { for x in 0..<width { pixels += x < width / 2 ? [200, 200, 40] : [20, 60, 20] } }
        let image = Image(width: width, height: height, channels: 3, pixels: pixels)
        let map = (0..<FeatureGrid.locations).map { Float($0 % FeatureGrid.width < FeatureGrid.width / 2 + 3 ? 0.8 : 0) }
        let sampler = strideFourSampler()
        let refinement = LabelRefinement(method: .crf)
        let points = try refinement.densePoints(image: image, scores: [(label: 4, scores: map)], sampler: sampler)
        let labels = try refinement.labels(image: image, scores: [(label: 4, scores: map)], threshold: sampler.denseThreshold,
                                           background: sampler.denseBackground)
        #expect(points.count == (FeatureGrid.height / 4) * (FeatureGrid.width / 4))
        for point in points {
            #expect(point.location / FeatureGrid.width % 4 == 0 && point.location % FeatureGrid.width % 4 == 0)
            #expect(point.label == labels[point.location])
        }
        #expect(Set(points.map(\.label)) == [0, 4])
        // The sampler's cap holds for refined labels as for plain ones: 5 points per label,
        // a subset of the uncapped points.
        var capped = sampler
        capped.denseCap = 5
        let few = try refinement.densePoints(image: image, scores: [(label: 4, scores: map)], sampler: capped)
        #expect(few.filter { $0.label == 4 }.count == 5 && few.filter { $0.label == 0 }.count == 5)
        #expect(Set(few.map(\.location)).isSubset(of: Set(points.map(\.location))))
        #expect(throws: SamplingError.self) {
            try refinement.densePoints(image: image, scores: [(label: 4, scores: [0.5])], sampler: sampler)
        }
        var bad = refinement
        bad.crf.iterations = -1
        #expect(throws: DenseCRFError.self) {
            try bad.densePoints(image: image, scores: [(label: 4, scores: map)], sampler: sampler)
        }
    }

    @Test("key text: empty for none (older keys unchanged), distinct per CRF setting; decoding fills defaults")
    func keyTextAndCoding() throws {
        #expect(LabelRefinement().keyText.isEmpty && !LabelRefinement().isEnabled)
        let crf = LabelRefinement(method: .crf)
        var weaker = crf
        weaker.crf.bilateralWeight = 1
        #expect(!crf.keyText.isEmpty && crf.keyText != weaker.keyText)
        let decoded = try JSONDecoder().decode(LabelRefinement.self, from: Data(#"{"method": "crf"}"#.utf8))
        #expect(decoded == crf)
        #expect(try JSONDecoder().decode(LabelRefinement.self, from: JSONEncoder().encode(weaker)) == weaker)
    }

    /// The registry's default dense sampler (stride 4), without importing the registry layer.
    private func strideFourSampler() -> PointSampler {
        var sampler = PointSampler(strategy: .dense)
        sampler.denseStride = 4
        return sampler
    }
}

import Foundation
