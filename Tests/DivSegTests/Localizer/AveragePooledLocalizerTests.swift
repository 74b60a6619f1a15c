import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import Testing
import DivSegMethodTestSupport

@Suite("AveragePooledLocalizer: CAM-style localizer trained from tags on real giraffe images", .serialized)
struct AveragePooledLocalizerTests {
    static func trainer(seed: UInt64 = 5) -> AveragePooledLocalizerTrainer {
        var trainer = AveragePooledLocalizerTrainer()
        trainer.seed = seed
        trainer.heldOutFraction = 0.25      // 2 of the 8 giraffes and 2 of the 8 others
        return trainer
    }

    static let trained: Result<(localizer: AveragePooledLocalizer, report: LocalizerReport), any Error> = Result {
        let fixture = try LocalizerFixture.giraffe.get()
        return try trainer().train(className: "giraffe", positives: fixture.positives,
                                   negativeCandidates: fixture.negatives,
                                   features: { path, _ in try fixture.features(path) })
    }

    @Test("training fits, holds out, refits on all images and reports it")
    func report() throws {
        let (localizer, report) = try Self.trained.get()
        #expect(report.loss == "average-pooled" && report.hiddenUnits == 0)
        #expect(report.trainingPositives == 6 && report.trainingNegatives == 6)
        #expect(report.heldOutPositives == 2 && report.heldOutNegatives == 2 && report.evaluatedOn == .heldOut)
        #expect(report.epochLosses.count == 300)
        #expect(report.finalLoss < 0.2 * report.epochLosses.first!, "losses \(report.epochLosses.prefix(3))…\(report.finalLoss)")
        #expect(report.notes.contains { $0.contains("refitted on all 16 images") })
        #expect(localizer.scoreScale == report.scoreScale && localizer.scoreScale > 0)
    }

    @Test("same images and seed give identical weights")
    func deterministic() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        let (first, _) = try Self.trained.get()
        let (again, _) = try Self.trainer().train(className: "giraffe", positives: fixture.positives,
                                                  negativeCandidates: fixture.negatives,
                                                  features: { path, _ in try fixture.features(path) })
        #expect(again == first)
    }

    @Test("the image logit is the activation map's mean plus the bias; giraffes score above the others")
    func logitIsMapMean() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        let (localizer, _) = try Self.trained.get()
        var positives: [Float] = [], negatives: [Float] = []
        for path in fixture.positives + fixture.negatives {
            let compact = try fixture.features(path)
            let pooled = compact.pooledBlock5Conv3
            var direct = localizer.bias
            for j in 0..<pooled.count { direct += localizer.weights[j] * localizer.inputScale[j] * pooled[j] }
            let z = localizer.logit(compact)
            #expect(abs(z - direct) <= 1e-4 * max(1, abs(direct)), "\(z) vs \(direct)")
            (fixture.positives.contains(path) ? { positives.append(z) } : { negatives.append(z) })()
        }
        // Trained on all 16 after the refit: every giraffe image above every other image.
        #expect(positives.min()! > negatives.max()!, "positives \(positives), negatives \(negatives)")
    }

    @Test("scores cover the 64×84 grid and a typical giraffe image peaks near 1")
    func scores() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        let (localizer, _) = try Self.trained.get()
        var peaks: [Float] = []
        for path in fixture.positives {
            let compact = try fixture.features(path)
            let s = localizer.score(compact)
            #expect(s.count == FeatureGrid.locations)
            peaks.append(s.max()!)
            // The CAM peer's class map: map / its max × probability, peaking at the probability
            // on block5's grid; bilinear ×4 upsampling never overshoots it.
            let map = localizer.activationMap(compact)
            let probability = localizer.probability(compact)
            let peer = map.map { $0 / map.max()! * probability }
            #expect(abs(peer.max()! - probability) < 1e-6)
            let p = localizer.score(compact, kind: .probability)
            let upsampled = Resampler.resize(Tensor(shape: [1, 16, 21], scalars: peer), height: 64, width: 84).scalars
            #expect(LocalizerFixture.relativeError(p, upsampled) < 1e-5)
            #expect(p.max()! <= probability + 1e-6)
        }
        let mean = peaks.reduce(0, +) / Float(peaks.count)
        // Upsampling can only lower a peak; bilinear ×4 keeps it within a few per cent.
        #expect(mean <= 1.0001 && mean > 0.8, "mean peak \(mean)")
    }

    @Test("saved and loaded through LocalizerFile, either architecture")
    func files() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        let (localizer, _) = try Self.trained.get()
        let dir = try LocalizerFixture.temporaryDirectory("cam-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/localizer.h5"
        try localizer.save(to: path)
        let loaded = try LocalizerFile.load(contentsOf: path)
        let cam = try #require(loaded as? AveragePooledLocalizer)
        #expect(cam == localizer)
        let compact = try fixture.features(fixture.positives[0])
        #expect(loaded.score(compact) == localizer.score(compact))

        let mlpPath = dir + "/mlp.h5"
        try Localizer(randomWithHiddenUnits: 4, className: "giraffe", seed: 1).save(to: mlpPath)
        #expect(try LocalizerFile.load(contentsOf: mlpPath) is Localizer)

        // A file of another rule is refused by name.
        #expect(throws: LocalizerError.self) {
            _ = try LocalizerFile.load(contentsOf: path, featureRule: "another-rule")
        }
    }

    @Test("settings are validated; infinite negatives mean every untagged image")
    func settings() throws {
        var bad = AveragePooledLocalizerTrainer()
        bad.regression.learningRate = 0
        #expect(throws: LocalizerError.self) { try bad.validate() }
        var rng = SplitMix64(seed: 1)
        let images = try LocalizerTrainingImages(className: "x", positives: ["a", "b"],
                                                 negativeCandidates: ["c", "d", "e", "f", "g"],
                                                 negativesPerPositive: .infinity, heldOutFraction: 0, rng: &rng)
        #expect(images.trainNegatives.sorted() == ["c", "d", "e", "f", "g"])
    }
}
