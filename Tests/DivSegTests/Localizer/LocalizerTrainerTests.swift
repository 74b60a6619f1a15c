import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import Testing
import DivSegMethodTestSupport

@Suite("Localizer: MIL training from image tags on real giraffe images", .serialized)
struct LocalizerTrainerTests {
    /// Small and quick: 64 hidden units, a higher learning rate and more epochs than the
    /// paper, since there are only 16 images.
    static func smallTrainer(seed: UInt64 = 3) -> LocalizerTrainer {
        var trainer = LocalizerTrainer()
        trainer.hiddenUnits = 64
        trainer.learningRate = 1e-3
        trainer.epochs = 4
        trainer.fineTuneEpochs = 1
        trainer.heldOutFraction = 0
        trainer.seed = seed
        return trainer
    }

    static let trained: Result<(localizer: Localizer, report: LocalizerReport, steps: [LocalizerTrainer.Progress]), any Error> = Result {
        let fixture = try LocalizerFixture.giraffe.get()
        var steps: [LocalizerTrainer.Progress] = []
        let (localizer, report) = try smallTrainer().train(
            className: "giraffe", positives: fixture.positives, negativeCandidates: fixture.negatives,
            features: { path, _ in try fixture.features(path) }, progress: { steps.append($0) })
        return (localizer, report, steps)
    }

    @Test("the training loss decreases and the report counts what was done")
    func lossDecreases() throws {
        let (localizer, report, steps) = try Self.trained.get()
        #expect(report.epochLosses.count == 5)
        #expect(report.epochLosses.last! < 0.8 * report.epochLosses.first!, "epoch losses \(report.epochLosses)")
        #expect(report.finalLoss == report.epochLosses.last!)
        #expect(report.trainingPositives == 8 && report.trainingNegatives == 8)
        #expect(report.heldOutPositives == 0 && report.evaluatedOn == .training)
        #expect(report.notes.contains { $0.contains("training images") })
        #expect(report.steps == 80 && steps.count == 80)
        #expect(steps.map(\.step) == Array(1...80) && steps.allSatisfy { $0.totalSteps == 80 })
        #expect(steps.last!.secondsRemaining == 0)
        #expect(report.seconds > 0 && report.secondsPerStep > 0)
        #expect(localizer.hiddenUnits == 64 && localizer.className == "giraffe")
        #expect(localizer.scoreScale == report.scoreScale && report.scoreScale > 0)
        print(report.summary, String(format: "%.3f s/step at 64 hidden units", report.secondsPerStep))
    }

    @Test("the trained localizer separates giraffe images from the others")
    func separates() throws {
        let (localizer, report, _) = try Self.trained.get()
        let fixture = try LocalizerFixture.giraffe.get()
        let positives = try fixture.positives.map { localizer.probability(try fixture.features($0)) }
        let negatives = try fixture.negatives.map { localizer.probability(try fixture.features($0)) }
        let auc = LocalizerDiagnostics.auc(positives: positives, negatives: negatives)
        #expect(auc > 0.8, "AUC \(auc): positives \(positives), negatives \(negatives)")
        #expect(abs(report.auc - auc) < 1e-9)
        #expect(report.accuracy > 0.6)
        // s_c is the mean of max F over the positives, so a positive image peaks near 1 —
        // unless F lies below zero, when the peaks' mean height above the image mean is used.
        let maps = try fixture.positives.map { localizer.maps(try fixture.features($0)).foreground }
        let meanPeak = maps.map { $0.max()! }.reduce(0, +) / Float(maps.count)
        if meanPeak > 0 {
            #expect(abs(localizer.scoreScale - meanPeak) <= 1e-4 * meanPeak)
            let peaks = try fixture.positives.map { localizer.score(try fixture.features($0)).max()! }
            #expect(abs(peaks.reduce(0, +) / Float(peaks.count) - 1) < 1e-4)
        } else {
            let height = maps.map { $0.max()! - $0.reduce(0, +) / Float($0.count) }.reduce(0, +) / Float(maps.count)
            #expect(abs(localizer.scoreScale - height) <= 1e-4 * height)
            #expect(report.notes.contains { $0.hasPrefix("scoreScale") })
        }
        print("scoreScale \(localizer.scoreScale), mean max F \(meanPeak)")
    }

    @Test("retraining with the same seed is bit-identical; another seed differs")
    func deterministic() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        var trainer = Self.smallTrainer(seed: 21)
        trainer.hiddenUnits = 16
        trainer.epochs = 1
        trainer.fineTuneEpochs = 1
        trainer.keepFeaturesInMemory = true
        func run(_ t: LocalizerTrainer) throws -> Localizer {
            try t.train(className: "giraffe", positives: fixture.positives,
                        negativeCandidates: fixture.negatives + [fixture.samples[1].imagePath, fixture.samples[2].imagePath],
                        features: { path, _ in try fixture.features(path) }).localizer
        }
        let a = try run(trainer), b = try run(trainer)
        #expect(a.fc1Kernel == b.fc1Kernel && a.fc1Bias == b.fc1Bias && a.fc2Kernel == b.fc2Kernel
                && a.fc2Bias == b.fc2Bias && a.inputScale == b.inputScale && a.scoreScale == b.scoreScale)
        trainer.seed = 22
        let c = try run(trainer)
        #expect(a.fc1Kernel != c.fc1Kernel)
    }

    @Test("20 % of positives and negatives are held out when there are enough")
    func heldOut() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        var trainer = Self.smallTrainer()
        trainer.hiddenUnits = 8
        trainer.epochs = 1
        trainer.fineTuneEpochs = 0
        trainer.heldOutFraction = 0.2
        let (_, report) = try trainer.train(className: "giraffe", positives: fixture.positives,
                                            negativeCandidates: fixture.negatives,
                                            cache: fixture.cache, extractor: fixture.extractor)
        #expect(report.evaluatedOn == .heldOut)
        #expect(report.heldOutPositives == 2 && report.heldOutNegatives == 2)
        #expect(report.trainingPositives == 6 && report.trainingNegatives == 6 && report.steps == 12)
        #expect(report.notes.isEmpty)
    }

    @Test("flip augmentation asks for mirrored features about half the time, reproducibly")
    func flips() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        var trainer = Self.smallTrainer()
        trainer.hiddenUnits = 4
        trainer.epochs = 2
        trainer.fineTuneEpochs = 0
        trainer.horizontalFlips = true
        trainer.inputScaling = .none
        func requests() throws -> [Bool] {
            var flags: [Bool] = []
            _ = try trainer.train(className: "giraffe", positives: fixture.positives,
                                  negativeCandidates: fixture.negatives, features: { path, flipped in
                                      flags.append(flipped)
                                      return try fixture.features(path)
                                  })
            return flags
        }
        let first = try requests()
        // 32 training steps, then 8 positives for the scales and 16 images for the report.
        #expect(first.count == 32 + 8 + 16)
        let mirrored = first.prefix(32).filter { $0 }.count
        #expect(mirrored >= 8 && mirrored <= 24)
        #expect(!first.suffix(24).contains(true))
        #expect(try requests() == first)
    }

    @Test("bad settings and missing images are reported with what to fix")
    func errors() throws {
        var trainer = LocalizerTrainer()
        trainer.learningRate = 0
        #expect(throws: LocalizerError.invalidSetting(name: "learningRate", value: "0.0", requirement: "in 1e-08...1.0")) {
            try trainer.validate()
        }
        trainer = LocalizerTrainer()
        trainer.borderMargin = 40
        #expect(throws: LocalizerError.self) { try trainer.validate() }
        trainer = LocalizerTrainer()
        let none: LocalizerTrainer.FeatureProvider = { path, _ in throw LocalizerError.noNegatives(className: path) }
        #expect(throws: LocalizerError.noPositives(className: "giraffe")) {
            _ = try trainer.train(className: "giraffe", positives: [], negativeCandidates: ["a"], features: none)
        }
        #expect(throws: LocalizerError.noNegatives(className: "giraffe")) {
            _ = try trainer.train(className: "giraffe", positives: ["a"], negativeCandidates: ["a"], features: none)
        }
        do {
            _ = try trainer.train(className: "giraffe", positives: ["/nowhere/a.jpg"], negativeCandidates: ["b"],
                                  features: { path, _ in _ = try ImageDecoder.decodeRGB(contentsOf: path); fatalError("decoded a missing image") })
            Issue.record("training without features succeeded")
        } catch let error as LocalizerError {
            guard case .featuresUnavailable(let path, _) = error else { Issue.record("\(error)"); return }
            #expect(path == "/nowhere/a.jpg")
        }
    }

    @Test("pixel softmax and a border margin train too; the margin's cells never win")
    func variants() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        var trainer = Self.smallTrainer()
        trainer.hiddenUnits = 16
        trainer.epochs = 2
        trainer.fineTuneEpochs = 0
        trainer.loss = .pixelSoftmax
        trainer.borderMargin = 2
        let (localizer, report) = try trainer.train(className: "giraffe", positives: fixture.positives,
                                                    negativeCandidates: fixture.negatives,
                                                    features: { path, _ in try fixture.features(path) })
        #expect(localizer.loss == .pixelSoftmax && localizer.borderMargin == 2)
        #expect(report.epochLosses.allSatisfy { $0.isFinite })
        let s = localizer.score(try fixture.features(fixture.positives[0]))
        let top = LocalizerDiagnostics.topLocation(s)
        let (r, c) = (top / 84, top % 84)
        #expect(r >= 2 && r < 62 && c >= 2 && c < 82)
    }
}
