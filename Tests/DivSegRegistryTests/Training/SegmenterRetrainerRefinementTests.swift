import DivSeg
import DivSegRegistry
import Foundation
import Testing

@Suite("Segmenter retrainer: CRF-refined training labels")
struct SegmenterRetrainerRefinementTests {
    @Test("refined labels are sampled under their own keys, recorded in labels.json and kept; none is today's pipeline bit for bit")
    func recordedAndKept() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("refined-labels") + "/classes"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        var editor = bundles.editor(dir)
        try editor.add(bundleAt: bundles.path("giraffe"), retrain: false)
        let plain = try #require(try editor.add(bundleAt: bundles.path("person")).retraining)
        #expect(plain.refinement == LabelRefinement() && plain.samples.imagesRefined == 0)
        #expect(try LabelLedger.read(registry: dir).labelRefinement == nil)
        let plainLedger = try String(contentsOfFile: dir + "/labels.json", encoding: .utf8)
        #expect(!plainLedger.contains("labelRefinement"))
        let plainSegmenter = try Registry.open(dir, backbone: bundles.backbone).loadSegmenter()

        var refinement = LabelRefinement(method: .crf)
        refinement.crf.iterations = 5
        editor.refinement = refinement
        let refined = try #require(try editor.retrain().retraining)
        // New keys: every image sampled again and refined; every location still labelled.
        #expect(refined.samples.imagesReused == 0 && refined.samples.imagesRefined == refined.images)
        #expect(refined.samples.summary.contains("refined"))
        #expect(refined.points == plain.points)
        #expect(refined.refinement == refinement)
        #expect(try LabelLedger.read(registry: dir).labelRefinement == refinement)
        #expect(try String(contentsOfFile: dir + "/labels.json", encoding: .utf8).contains("labelRefinement"))

        // A later change that does not name it keeps the recorded refinement (and its settings).
        editor.refinement = nil
        let kept = try #require(try editor.add(bundleAt: bundles.path("elephant")).retraining)
        #expect(kept.refinement == refinement)
        #expect(try LabelLedger.read(registry: dir).labelRefinement == refinement)
        #expect(try editor.verify().isHealthy)
        // Incremental: the retrain again finds every refined pick stored.
        let again = try #require(try editor.retrain().retraining)
        #expect(again.samples.imagesResampled == 0 && again.samples.imagesRefined == 0)

        // Naming none goes back: the record is dropped, the plain picks stored before are
        // found under their unchanged keys, and the segmenter is the plain one bit for bit.
        editor.refinement = LabelRefinement()
        let back = try #require(try editor.remove("elephant").retraining)
        #expect(back.samples.imagesResampled == 0 && back.refinement == LabelRefinement())
        #expect(try LabelLedger.read(registry: dir).labelRefinement == nil)
        #expect(try !String(contentsOfFile: dir + "/labels.json", encoding: .utf8).contains("labelRefinement"))
        #expect(try Registry.open(dir, backbone: bundles.backbone).loadSegmenter().parameters == plainSegmenter.parameters)
    }
}
