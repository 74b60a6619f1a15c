import DivSeg
import DivSegCore
import Testing

@Suite("LocalizerTrainingImages: notes about too few images")
struct LocalizerTrainingImagesNoteTests {
    @Test("fewer positives than minimumUsefulPositives are reported; enough are not")
    func fewPositives() throws {
        var rng = SplitMix64(seed: 1)
        let few = try LocalizerTrainingImages(className: "toilet", positives: ["p1"], negativeCandidates: ["n1"],
                                              negativesPerPositive: 1, heldOutFraction: 0.2, rng: &rng)
        #expect(few.notes.contains { $0.contains("only 1 image tagged 'toilet'") })
        let positives = (0..<LocalizerTrainingImages.minimumUsefulPositives).map { "p\($0)" }
        let enough = try LocalizerTrainingImages(className: "toilet", positives: positives,
                                                 negativeCandidates: positives.map { "n" + $0 },
                                                 negativesPerPositive: 1, heldOutFraction: 0.2, rng: &rng)
        #expect(!enough.notes.contains { $0.contains("tagged 'toilet'") })
    }
}
