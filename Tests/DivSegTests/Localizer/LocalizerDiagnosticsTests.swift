import DivSeg
import DivSegCore
import DivSegIO
import Testing
import DivSegMethodTestSupport

@Suite("Localizer: diagnostics")
struct LocalizerDiagnosticsTests {
    @Test("AUC counts pairs, ties as halves")
    func auc() {
        #expect(LocalizerDiagnostics.auc(positives: [0.9, 0.8], negatives: [0.1, 0.85]) == 0.75)
        #expect(LocalizerDiagnostics.auc(positives: [1, 1], negatives: [1]) == 0.5)
        #expect(LocalizerDiagnostics.auc(positives: [], negatives: [1]) == 0.5)
        #expect(LocalizerDiagnostics.auc(positives: [0], negatives: [1, 2]) == 0)
    }

    @Test("cell labels take the pixel under each cell's centre")
    func cellLabels() {
        // 128×168 map: every cell is 2×2 pixels; mark pixel (1, 1) of cell (0, 0) and the
        // top-left pixel of cell (5, 7).
        var labels = [UInt8](repeating: 0, count: 128 * 168)
        labels[1 * 168 + 1] = 1
        labels[10 * 168 + 14] = 1
        labels[127 * 168 + 167] = 255
        let cells = LocalizerDiagnostics.cellLabels(of: LabelMap(width: 168, height: 128, labels: labels))
        #expect(cells.count == 5376)
        #expect(cells[0] == 1)
        #expect(cells[5 * 84 + 7] == 0)
        #expect(cells[5375] == 255)
        #expect(cells.filter { $0 != 0 }.count == 2)
        // A map smaller than the grid repeats its pixels.
        let tiny = LocalizerDiagnostics.cellLabels(of: LabelMap(width: 2, height: 1, labels: [1, 2]))
        #expect(tiny[0] == 1 && tiny[83] == 2 && tiny[5375] == 2)
    }

    @Test("pointing accuracy checks the top cell against the giraffe masks")
    func pointing() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        let localizer = try LocalizerTrainerTests.trained.get().localizer
        let samples = fixture.samples.filter { $0.tags.contains("giraffe") }
        for kind in LocalizerScore.allCases {
            let result = try LocalizerDiagnostics.pointingAccuracy(
                of: localizer, className: "giraffe", samples: fixture.samples, score: kind,
                features: { try fixture.features($0) })
            #expect(result.hits + result.misses + result.ignored + result.withoutGroundTruth == samples.count)
            #expect(result.topLocations.count == result.hits + result.misses + result.ignored)
            #expect(result.accuracy >= 0 && result.accuracy <= 1)
            print("giraffe pointing accuracy (\(kind.rawValue)): \(result.hits)/\(result.hits + result.misses)")
        }
        // The check itself: a "localizer" pointing exactly at the mask hits every time.
        for sample in samples {
            guard let truth = try sample.groundTruth(classes: ["giraffe"]) else { continue }
            let cells = LocalizerDiagnostics.cellLabels(of: truth)
            let scores = cells.map { $0 == 1 ? Float(1) : 0 }
            #expect(cells[LocalizerDiagnostics.topLocation(scores)] == 1)
        }
    }
}
