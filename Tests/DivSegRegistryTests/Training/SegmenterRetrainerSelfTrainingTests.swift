import DivSeg
import DivSegRegistry
import Foundation
import Testing

@Suite("Segmenter retrainer: self-training")
struct SegmenterRetrainerSelfTrainingTests {
    @Test("rounds run on the stored picks, are recorded in labels.json and kept by later changes")
    func recordedAndKept() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("self-training") + "/classes"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        var editor = bundles.editor(dir)
        try editor.add(bundleAt: bundles.path("giraffe"), retrain: false)
        let plain = try #require(try editor.add(bundleAt: bundles.path("person")).retraining)
        #expect(plain.rounds.isEmpty && plain.selfTraining == SegmenterRetrainer.defaultSelfTraining)
        #expect(try LabelLedger.read(registry: dir).selfTrainingRounds == nil)

        editor.selfTrainingRounds = 2
        let report = try editor.retrain()
        let trained = try #require(report.retraining)
        #expect(trained.rounds.map(\.round) == [1, 2])
        // The rounds relabel the points already picked: no image is sampled again.
        #expect(trained.samples.imagesResampled == 0 && trained.samples.picksRecomputed == 0)
        #expect(trained.points == plain.points)
        for round in trained.rounds {
            #expect(round.pointsPerLabel.reduce(0, +) == plain.points)
            #expect(round.changedLabels <= plain.points)
        }
        #expect(report.summary.contains("self-training round 2"))
        #expect(try LabelLedger.read(registry: dir).selfTrainingRounds == 2)
        #expect(try String(contentsOfFile: dir + "/labels.json", encoding: .utf8).contains(#""selfTrainingRounds" : 2"#))

        // A later change that does not name the rounds keeps the recorded ones.
        editor.selfTrainingRounds = nil
        let kept = try #require(try editor.add(bundleAt: bundles.path("elephant")).retraining)
        #expect(kept.rounds.count == 2)
        #expect(try LabelLedger.read(registry: dir).selfTrainingRounds == 2)
        #expect(try editor.verify().isHealthy)

        // Naming 0 goes back to the plain pipeline, bit for bit, and the record is dropped.
        editor.selfTrainingRounds = 0
        let back = try editor.remove("elephant")
        #expect(try #require(back.retraining).rounds.isEmpty)
        #expect(try LabelLedger.read(registry: dir).selfTrainingRounds == nil)
        #expect(try !String(contentsOfFile: dir + "/labels.json", encoding: .utf8).contains("selfTrainingRounds"))
        let again = try Registry.open(dir, backbone: bundles.backbone).loadSegmenter()
        let first = try #require(try editor.retrain().retraining)
        #expect(first.rounds.isEmpty)
        #expect(try Registry.open(dir, backbone: bundles.backbone).loadSegmenter().parameters == again.parameters)
    }

    @Test("cross-fitted self-training (folds) is recorded and kept like the rounds")
    func crossFitted() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("self-training-folds") + "/classes"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        var editor = bundles.editor(dir)
        try editor.add(bundleAt: bundles.path("giraffe"), retrain: false)
        editor.selfTrainingRounds = 1
        editor.selfTrainingFolds = 2
        let trained = try #require(try editor.add(bundleAt: bundles.path("person")).retraining)
        #expect(trained.selfTraining == SelfTraining(rounds: 1, folds: 2))
        #expect(try #require(trained.rounds.first).pointsPerLabel.reduce(0, +) == trained.points)
        let ledger = try LabelLedger.read(registry: dir)
        #expect(ledger.selfTrainingRounds == 1 && ledger.selfTrainingFolds == 2)
        editor.selfTrainingRounds = nil
        editor.selfTrainingFolds = nil
        let kept = try #require(try editor.add(bundleAt: bundles.path("elephant")).retraining)
        #expect(kept.selfTraining == SelfTraining(rounds: 1, folds: 2))
        #expect(try editor.verify().isHealthy)
    }

    @Test("an exhaustive registry self-trains without inventing background")
    func exhaustive() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("self-training-none") + "/classes"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        var editor = bundles.editor(dir)
        try editor.add(bundleAt: bundles.path("giraffe"), retrain: false)
        editor.background = DenseBackground.none
        editor.selfTrainingRounds = 1
        let trained = try #require(try editor.add(bundleAt: bundles.path("person")).retraining)
        let round = try #require(trained.rounds.first)
        #expect(trained.pointsPerLabel[0] == 0)
        #expect(round.pointsPerLabel[0] == 0, "the rounds allow only the image's tags")
        #expect(round.pointsPerLabel.reduce(0, +) == trained.points)
    }
}
