import DivSeg
import DivSegCore
import Testing

@Suite("Sampling: strategies on real features and mask-derived scores")
struct SamplingPointSamplerTests {
    typealias Fixture = RealPointsFixture

    @Test("diverse picks: distinct, argmax first, high scores, greedy rule holds")
    func diverse() throws {
        for image in try Fixture.cases.get() {
            let picks = try PointSampler().foregroundPicks(scores: image.scores, similarity: image.similarity)
            #expect(picks.count == 20)
            #expect(Set(picks).count == 20, "\(image.id): picks repeat")
            #expect(picks[0] == Fixture.argmax(image.scores))
            let median = Fixture.median(image.scores)
            #expect(picks.allSatisfy { image.scores[$0] > median }, "\(image.id): a pick below the median score")
            // Every pick maximises S(i) − max over earlier picks of <f_i, f_m> (checked with
            // the GEMM path, independent of the sampler's GEMV columns).
            let columns = image.similarity.similarities(toEach: picks)
            let n = FeatureGrid.locations
            for step in 1..<picks.count {
                var best = -Float.infinity
                for i in 0..<n where !picks[..<step].contains(i) {
                    let penalty = (0..<step).map { columns[$0 * n + i] }.max()!
                    best = max(best, image.scores[i] - penalty)
                }
                let chosen = picks[step]
                let value = image.scores[chosen] - (0..<step).map { columns[$0 * n + chosen] }.max()!
                #expect(value >= best - 1e-4, "\(image.id): pick \(step) is not the greedy maximum")
            }
        }
    }

    @Test("diverse picks are more spread in feature space than top-k picks")
    func diverseBeatsTopOnSpread() throws {
        for image in try Fixture.cases.get() {
            let diverse = try PointSampler(strategy: .diverse).foregroundPicks(scores: image.scores, similarity: image.similarity)
            let top = try PointSampler(strategy: .top).foregroundPicks(scores: image.scores, similarity: image.similarity)
            let spreadDiverse = image.similarity.meanPairwiseSimilarity(diverse)
            let spreadTop = image.similarity.meanPairwiseSimilarity(top)
            #expect(spreadDiverse < spreadTop, "\(image.id): diverse \(spreadDiverse) vs top \(spreadTop)")
        }
    }

    @Test("top-k is the k highest scores in descending order")
    func top() throws {
        let image = try Fixture.cases.get()[0]
        let picks = try PointSampler(strategy: .top, pointsPerClass: 25)
            .foregroundPicks(scores: image.scores, similarity: image.similarity)
        let expected = image.scores.indices.sorted {
            image.scores[$0] != image.scores[$1] ? image.scores[$0] > image.scores[$1] : $0 < $1
        }.prefix(25)
        #expect(picks == Array(expected))
    }

    @Test("spatial picks start at the argmax and are farther apart in the grid than top-k")
    func spatial() throws {
        for image in try Fixture.cases.get() {
            let spatial = try PointSampler(strategy: .spatial).foregroundPicks(scores: image.scores, similarity: image.similarity)
            let top = try PointSampler(strategy: .top).foregroundPicks(scores: image.scores, similarity: image.similarity)
            #expect(spatial.count == 20 && Set(spatial).count == 20)
            #expect(spatial[0] == Fixture.argmax(image.scores))
            let (ds, dt) = (Fixture.meanPairwiseDistance(spatial), Fixture.meanPairwiseDistance(top))
            #expect(ds > dt, "\(image.id): spatial \(ds) cells vs top \(dt) cells")
        }
    }

    @Test("diverse background avoids the foreground and is less similar to it than random locations")
    func background() throws {
        let sampler = PointSampler()
        for image in try Fixture.cases.get() {
            let foreground = try sampler.foregroundPicks(scores: image.scores, similarity: image.similarity)
            let background = try sampler.backgroundPicks(foreground: foreground, similarity: image.similarity)
            #expect(background.count == 20 && Set(background).count == 20)
            #expect(Set(background).isDisjoint(with: foreground))
            let nearest = try #require(image.similarity.maximumSimilarities(to: foreground))
            // b_1 = argmin over non-foreground locations of the max similarity to the foreground.
            let candidates = nearest.indices.filter { !foreground.contains($0) }
            let first = candidates.min { nearest[$0] < nearest[$1] }!
            #expect(background[0] == first)
            var rng = SplitMix64(seed: 9)
            let random = (0..<300).map { _ in candidates[Int(rng.next() % UInt64(candidates.count))] }
            let meanBackground = background.map { nearest[$0] }.reduce(0, +) / Float(background.count)
            let meanRandom = random.map { nearest[$0] }.reduce(0, +) / Float(random.count)
            #expect(meanBackground < meanRandom, "\(image.id): background \(meanBackground) vs random \(meanRandom)")
            // With mask-derived scores, background picks land outside the object more often
            // than chance (the object covers 8 %, 45 % and 66 % of these images).
            let outside = Float(background.filter { image.maskFraction[$0] < 0.5 }.count) / Float(background.count)
            let chance = Float(image.maskFraction.filter { $0 < 0.5 }.count) / Float(FeatureGrid.locations)
            #expect(outside >= chance, "\(image.id): \(outside) of background picks outside the object, chance \(chance)")
        }
    }

    @Test("top background is the k least similar locations; spatial background is farthest-point")
    func backgroundBaselines() throws {
        let image = try Fixture.cases.get()[1]
        let top = PointSampler(strategy: .top)
        let fg = try top.foregroundPicks(scores: image.scores, similarity: image.similarity)
        let bg = try top.backgroundPicks(foreground: fg, similarity: image.similarity)
        let nearest = try #require(image.similarity.maximumSimilarities(to: fg))
        let expected = nearest.indices.filter { !fg.contains($0) }
            .sorted { nearest[$0] != nearest[$1] ? nearest[$0] < nearest[$1] : $0 < $1 }.prefix(20)
        #expect(bg == Array(expected))

        let spatial = PointSampler(strategy: .spatial)
        let sfg = try spatial.foregroundPicks(scores: image.scores, similarity: image.similarity)
        let sbg = try spatial.backgroundPicks(foreground: sfg, similarity: image.similarity)
        #expect(sbg.count == 20 && Set(sbg).isDisjoint(with: sfg))
        for step in 0..<sbg.count {
            let placed = sfg + sbg[..<step]
            func clearance(_ i: Int) -> Float { placed.map { Fixture.gridDistance(i, $0) }.min()! }
            let best = (0..<FeatureGrid.locations).filter { !placed.contains($0) }.map(clearance).max()!
            #expect(abs(clearance(sbg[step]) - best) < 1e-4, "spatial background pick \(step) is not farthest")
        }
    }

    @Test("an image without tagged classes still gets k distinct background points")
    func backgroundOnly() throws {
        let image = try Fixture.cases.get()[2]
        for strategy in [SamplingStrategy.diverse, .top, .spatial] {
            let points = try PointSampler(strategy: strategy).samplePoints(classScores: [], similarity: image.similarity)
            #expect(points.count == 20 && Set(points.map(\.location)).count == 20)
            #expect(points.allSatisfy { $0.label == 0 })
        }
        let typical = image.similarity.typicality()
        let diverse = try PointSampler().backgroundPicks(foreground: [], similarity: image.similarity)
        #expect(diverse[0] == Fixture.argmax(typical))
    }

    @Test("dense labelling is thresholding of the best class score")
    func dense() throws {
        let image = try Fixture.cases.get()[0]
        let other = image.scores.reversed().map { $0 * 0.9 }   // a second, unrelated map
        let sampler = PointSampler(strategy: .dense, denseThreshold: 0.5)
        let classScores: [(label: Int, scores: [Float])] = [(label: 1, scores: image.scores), (label: 4, scores: other)]
        let labels = try sampler.denseLabels(scores: classScores)
        for i in 0..<FeatureGrid.locations {
            let (a, b) = (image.scores[i], other[i])
            let expected = max(a, b) < 0.5 ? 0 : (a >= b ? 1 : 4)
            #expect(labels[i] == expected)
        }
        #expect(labels.contains(1) && labels.contains(0))
        let points = try sampler.samplePoints(classScores: classScores, similarity: image.similarity)
        #expect(points.map(\.location) == Array(0..<FeatureGrid.locations))
        #expect(points.map(\.label) == labels)
        let fg = try sampler.foregroundPicks(scores: image.scores, similarity: image.similarity)
        #expect(Set(fg) == Set(image.scores.indices.filter { image.scores[$0] >= 0.5 }))
        let bg = try sampler.backgroundPicks(foreground: fg, similarity: image.similarity)
        #expect(bg.count + fg.count == FeatureGrid.locations)
        #expect(PointSampler().denseThreshold == 0.2)
    }

    @Test("a dense stride keeps every n-th row and column, with the same labels")
    func denseStride() throws {
        let image = try Fixture.cases.get()[0]
        var sampler = PointSampler(strategy: .dense)
        let classScores: [(label: Int, scores: [Float])] = [(label: 2, scores: image.scores)]
        let all = try sampler.samplePoints(classScores: classScores, similarity: image.similarity)
        sampler.denseStride = 4
        let strided = try sampler.samplePoints(classScores: classScores, similarity: image.similarity)
        #expect(strided.count == 16 * 21)
        #expect(strided.allSatisfy { ($0.location / FeatureGrid.width) % 4 == 0 && ($0.location % FeatureGrid.width) % 4 == 0 })
        #expect(strided.allSatisfy { all[$0.location] == $0 })
        sampler.denseStride = 0
        #expect(throws: SamplingError.self) { try sampler.validate() }
    }

    @Test("samplePoints labels k points per class and k background points")
    func wholeImage() throws {
        let image = try Fixture.cases.get()[0]
        let second = Fixture.boxBlur(image.scores.reversed())
        let points = try PointSampler(pointsPerClass: 10).samplePoints(
            classScores: [(label: 3, scores: image.scores), (label: 7, scores: second)],
            similarity: image.similarity)
        #expect(points.count == 30)
        #expect(points.filter { $0.label == 3 }.count == 10)
        #expect(points.filter { $0.label == 7 }.count == 10)
        let background = points.filter { $0.label == 0 }.map(\.location)
        #expect(background.count == 10)
        #expect(Set(background).isDisjoint(with: points.filter { $0.label != 0 }.map(\.location)))
        let point = LabeledPoint(location: 10 * FeatureGrid.width + 42, label: 3)
        #expect(point.row() == 10 && point.column() == 42)
    }

    @Test("k beyond the grid is clamped; small grids work")
    func clamping() throws {
        var rng = SplitMix64(seed: 3)
        let t = Tensor(shape: [6, 3, 4], scalars: rng.floats(72))
        let s = try FeatureSimilarity(hypercolumns: t)
        let scores = rng.floats(12)
        for strategy in [SamplingStrategy.diverse, .top, .spatial] {
            let sampler = PointSampler(strategy: strategy, pointsPerClass: 50)
            let fg = try sampler.foregroundPicks(scores: scores, similarity: s)
            #expect(fg.count == 12 && Set(fg).count == 12)
            #expect(try sampler.backgroundPicks(foreground: fg, similarity: s).isEmpty)
            let some = Array(fg.prefix(5))
            let bg = try sampler.backgroundPicks(foreground: some, similarity: s)
            #expect(bg.count == 7 && Set(bg).isDisjoint(with: some))
        }
        #expect(try PointSampler(pointsPerClass: 0).foregroundPicks(scores: scores, similarity: s).isEmpty)
    }

    @Test("bad inputs are refused with specific errors")
    func errors() throws {
        let image = try Fixture.cases.get()[0]
        let s = image.similarity
        let sampler = PointSampler()
        #expect(throws: SamplingError.scoreCountMismatch(label: nil, count: 10, expected: 5376)) {
            try sampler.foregroundPicks(scores: [Float](repeating: 0, count: 10), similarity: s)
        }
        var bad = image.scores
        bad[77] = .nan
        #expect(throws: SamplingError.nonFiniteScore(label: 2, location: 77)) {
            try sampler.samplePoints(classScores: [(label: 2, scores: bad)], similarity: s)
        }
        #expect(throws: SamplingError.invalidLabel(0)) {
            try sampler.samplePoints(classScores: [(label: 0, scores: image.scores)], similarity: s)
        }
        #expect(throws: SamplingError.duplicateLabel(1)) {
            try sampler.samplePoints(classScores: [(label: 1, scores: image.scores), (label: 1, scores: image.scores)],
                                     similarity: s)
        }
        #expect(throws: SamplingError.locationOutOfRange(location: 9999, locationCount: 5376)) {
            try sampler.backgroundPicks(foreground: [9999], similarity: s)
        }
        #expect(throws: SamplingError.self) {
            try PointSampler(pointsPerClass: -1).foregroundPicks(scores: image.scores, similarity: s)
        }
        #expect(throws: SamplingError.self) {
            try PointSampler(strategy: .spatial, spatialBandwidth: 0).foregroundPicks(scores: image.scores, similarity: s)
        }
        let message = SamplingError.scoreCountMismatch(label: 3, count: 10, expected: 5376).description
        #expect(message.contains("label 3") && message.contains("5376"))
        #expect(SamplingStrategy(rawValue: "diverse") == .diverse && SamplingStrategy.allCases.count == 4)
    }
}
