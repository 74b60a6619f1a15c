import DivSeg
import Foundation
import Testing

@Suite("Sampling: dense background rule and confident labels (issue #11)")
struct SamplingDenseBackgroundTests {
    /// Two classes on six locations: clear class 1, clear class 2, a near tie, both low,
    /// both far below, and a weak class-2 lead just above the threshold.
    static let cat: [Float] = [0.9, 0.1, 0.50, 0.15, -0.4, 0.22]
    static let dog: [Float] = [0.1, 0.8, 0.48, 0.0, -0.6, 0.25]
    static var scores: [(label: Int, scores: [Float])] { [(label: 1, scores: cat), (label: 2, scores: dog)] }

    @Test("an exhaustive registry (background none) yields no background label, whatever the scores")
    func exhaustive() throws {
        var sampler = PointSampler(strategy: .dense)
        #expect(sampler.denseBackground == .threshold)
        #expect(try sampler.denseLabels(scores: Self.scores, locationCount: 6) == [1, 2, 1, 0, 0, 2])
        sampler.denseBackground = .none
        let labels = try sampler.denseLabels(scores: Self.scores, locationCount: 6)
        #expect(labels == [1, 2, 1, 1, 1, 2], "every location takes its best tagged class")
        #expect(!labels.contains(0))
        // No threshold plays a part: even one far above every score leaves no background.
        sampler.denseThreshold = 5
        #expect(try sampler.denseLabels(scores: Self.scores, locationCount: 6) == labels)
        // An image with no registered class has nothing to be labelled with: no points at all.
        #expect(try sampler.densePoints(scores: [], locationCount: 6).isEmpty)
        sampler.denseBackground = .threshold
        #expect(try sampler.densePoints(scores: [], locationCount: 6).map(\.label) == [0, 0, 0, 0, 0, 0])
    }

    @Test("confident labels: the uncertain band is ignored, not guessed")
    func margin() throws {
        var sampler = PointSampler(strategy: .dense)
        sampler.denseMargin = 0.1
        let labels = try sampler.denseLabels(scores: Self.scores, locationCount: 6)
        // 0: 0.9 ≥ 0.3 and leads by 0.8 → cat; 1: dog; 2: leads by only 0.02 → ignored;
        // 3: best 0.15 in [0.1, 0.3) → ignored; 4: best −0.4 < 0.1 → background;
        // 5: best 0.25 < 0.3 → ignored.
        let ignored = PointSampler.ignoredLabel
        #expect(labels == [1, 2, ignored, ignored, 0, ignored])
        let points = try sampler.densePoints(scores: Self.scores, locationCount: 6)
        #expect(points.map(\.location) == [0, 1, 4], "ignored locations are left out of training")
        #expect(points.map(\.label) == [1, 2, 0])
        // Exhaustive + margin: only the lead over the second class counts.
        sampler.denseBackground = .none
        #expect(try sampler.denseLabels(scores: Self.scores, locationCount: 6) == [1, 2, ignored, 1, 1, ignored])
        // Margin 0 is the plain rule.
        sampler.denseMargin = 0
        sampler.denseBackground = .threshold
        #expect(try sampler.denseLabels(scores: Self.scores, locationCount: 6) == [1, 2, 1, 0, 0, 2])
        sampler.denseMargin = -0.1
        #expect(throws: SamplingError.self) { try sampler.validate() }
        sampler.denseMargin = .nan
        #expect(throws: SamplingError.self) { try sampler.validate() }
    }

    @Test("a capped dense labelling keeps at most k evenly spaced points per label, in order")
    func cap() throws {
        // 12 locations: 9 of class 1 (scores 0.9), then 3 below the threshold (background).
        let scores: [Float] = [Float](repeating: 0.9, count: 9) + [0, 0, 0]
        var sampler = PointSampler(strategy: .dense)
        #expect(sampler.denseCap == 0)
        #expect(try sampler.densePoints(scores: [(label: 1, scores: scores)], locationCount: 12).count == 12)
        sampler.denseCap = 3
        let points = try sampler.densePoints(scores: [(label: 1, scores: scores)], locationCount: 12)
        // Of 9: ⌊(2i+1)·9/6⌋ = 1, 4, 7; background has only 3 → all kept.
        #expect(points.map(\.location) == [1, 4, 7, 9, 10, 11])
        #expect(points.map(\.label) == [1, 1, 1, 0, 0, 0])
        sampler.denseCap = 1
        #expect(try sampler.densePoints(scores: [(label: 1, scores: scores)], locationCount: 12).map(\.location) == [4, 10])
        sampler.denseCap = 501
        #expect(throws: SamplingError.self) { try sampler.validate() }
        sampler.denseCap = -1
        #expect(throws: SamplingError.self) { try sampler.validate() }
    }

    @Test("the new settings round-trip, and are left out of the encoding at their defaults")
    func coding() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var sampler = PointSampler(strategy: .dense)
        let plain = String(decoding: try encoder.encode(sampler), as: UTF8.self)
        #expect(!plain.contains("denseBackground") && !plain.contains("denseMargin") && !plain.contains("denseCap"))
        #expect(try JSONDecoder().decode(PointSampler.self, from: Data(plain.utf8)) == sampler)
        sampler.denseBackground = .none
        sampler.denseMargin = 0.25
        sampler.denseCap = 20
        let data = try encoder.encode(sampler)
        #expect(String(decoding: data, as: UTF8.self).contains(#""denseBackground":"none""#))
        #expect(try JSONDecoder().decode(PointSampler.self, from: data) == sampler)
        // Settings written before these existed still decode, with the defaults.
        let old = #"{"strategy":"top","pointsPerClass":7,"denseThreshold":0.2,"spatialBandwidth":0.1,"denseStride":1}"#
        let decoded = try JSONDecoder().decode(PointSampler.self, from: Data(old.utf8))
        #expect(decoded.strategy == .top && decoded.pointsPerClass == 7 && decoded.denseBackground == .threshold
                && decoded.denseMargin == 0 && decoded.denseCap == 0)
    }
}
