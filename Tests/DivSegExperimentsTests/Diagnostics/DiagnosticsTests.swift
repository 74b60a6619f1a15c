import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import Testing
import DivSegDatasets
import DivSegExperiments
import DivSegMethodTestSupport

/// A synthetic ground truth on a 128×168 image, so every grid cell is 2×2 pixels: class 1
/// covers cells rows 10..<30 × columns 20..<50 (600 cells), label 255 covers rows 50..<60 ×
/// columns 0..<10 (100 cells), the rest is background.
enum DiagnosticsSyntheticTruth {
    static let map: LabelMap = {
        var labels = [UInt8](repeating: 0, count: 128 * 168)
        for y in 20..<60 { for x in 40..<100 { labels[y * 168 + x] = 1 } }
        for y in 100..<120 { for x in 0..<20 { labels[y * 168 + x] = 255 } }
        return LabelMap(width: 168, height: 128, labels: labels)
    }()
    static let cells = PipelineDiagnostics.cellLabels(of: map)
    static func cell(_ r: Int, _ c: Int) -> Int { r * FeatureGrid.width + c }
    /// A score map with a single peak at `location`.
    static func peak(at location: Int) -> [Float] {
        var s = [Float](repeating: 0, count: FeatureGrid.locations)
        s[location] = 1
        return s
    }
}

@Suite("Diagnostics: pointing accuracy and sampling precision (synthetic)")
struct DiagnosticsMeasureTests {
    @Test("the synthetic truth lands on the expected cells")
    func cells() {
        let cells = DiagnosticsSyntheticTruth.cells
        #expect(cells.filter { $0 == 1 }.count == 600)
        #expect(cells.filter { $0 == 255 }.count == 100)
        #expect(cells[DiagnosticsSyntheticTruth.cell(10, 20)] == 1 && cells[DiagnosticsSyntheticTruth.cell(9, 20)] == 0)
    }

    @Test("a score peaking inside the mask points right, outside wrong, on 255 not at all")
    func pointing() throws {
        let cells = DiagnosticsSyntheticTruth.cells
        var inside = PointingTally(className: "thing")
        #expect(try inside.record(scores: DiagnosticsSyntheticTruth.peak(at: DiagnosticsSyntheticTruth.cell(15, 30)), cellLabels: cells, label: 1) == .hit)
        #expect(inside.accuracy == 1)
        var outside = PointingTally(className: "thing")
        #expect(try outside.record(scores: DiagnosticsSyntheticTruth.peak(at: DiagnosticsSyntheticTruth.cell(5, 5)), cellLabels: cells, label: 1) == .miss)
        #expect(outside.accuracy == 0)
        // The label matters: the same peak is a miss for another class.
        #expect(try PointingTally.outcome(scores: DiagnosticsSyntheticTruth.peak(at: DiagnosticsSyntheticTruth.cell(15, 30)), cellLabels: cells,
                                          label: 2) == .miss)
        var ignored = PointingTally(className: "thing")
        #expect(try ignored.record(scores: DiagnosticsSyntheticTruth.peak(at: DiagnosticsSyntheticTruth.cell(55, 5)), cellLabels: cells, label: 1) == .ignored)
        #expect(ignored.accuracy == nil && ignored.counted == 0 && ignored.ignored == 1)
        // Chance: the mask's share of the known cells.
        #expect(abs(inside.chance! - 600.0 / 5276.0) < 1e-12)
        // Ties go to the first cell.
        #expect(try PointingTally.outcome(scores: [Float](repeating: 0, count: 5376), cellLabels: cells, label: 1) == .miss)
        #expect(throws: DiagnosticsError.self) {
            _ = try PointingTally.outcome(scores: [1, 2], cellLabels: cells, label: 1)
        }
    }

    @Test("sampling precision judges foreground and background picks by their cells")
    func sampling() throws {
        let cell = DiagnosticsSyntheticTruth.cell
        let points = [
            LabeledPoint(location: cell(10, 20), label: 1), LabeledPoint(location: cell(20, 30), label: 1),
            LabeledPoint(location: cell(29, 49), label: 1), LabeledPoint(location: cell(0, 0), label: 1),
            LabeledPoint(location: cell(55, 5), label: 1),
            LabeledPoint(location: cell(63, 83), label: 0), LabeledPoint(location: cell(40, 40), label: 0),
            LabeledPoint(location: cell(12, 25), label: 0), LabeledPoint(location: cell(59, 9), label: 0),
        ]
        var precision = SamplingPrecision(classes: ["thing"])
        try precision.record(points: points, cellLabels: DiagnosticsSyntheticTruth.cells)
        let fg = precision.foreground[0], bg = precision.background
        #expect(fg.picks == 5 && fg.ignored == 1 && fg.judged == 4 && fg.correct == 3 && fg.images == 1)
        #expect(fg.precision == 0.75 && precision.foregroundPrecision == 0.75)
        #expect(bg.picks == 4 && bg.ignored == 1 && bg.correct == 2)
        #expect(abs(bg.precision! - 2.0 / 3.0) < 1e-12)
        #expect(abs(fg.chance! - 600.0 / 5276.0) < 1e-12 && abs(bg.chance! - 4676.0 / 5276.0) < 1e-12)
        #expect(precision.images == 1)
        // A label outside the classes is refused and nothing is recorded.
        #expect(throws: DiagnosticsError.self) {
            try precision.record(points: [LabeledPoint(location: 0, label: 2)], cellLabels: DiagnosticsSyntheticTruth.cells)
        }
        #expect(precision.images == 1 && precision.foreground[0].picks == 5)
    }

    @Test("oracle points lie inside their masks and on background (synthetic)")
    func oracleSynthetic() throws {
        let points = try OracleSampler(pointsPerClass: 20, seed: 3).points(cellLabels: DiagnosticsSyntheticTruth.cells, imageID: "x")
        #expect(points.filter { $0.label == 1 }.count == 20 && points.filter { $0.label == 0 }.count == 20)
        for p in points { #expect(DiagnosticsSyntheticTruth.cells[p.location] == UInt8(p.label)) }
        #expect(Set(points.map(\.location)).count == 40)
        // Fewer cells than k: all of them.
        var tiny = [UInt8](repeating: 0, count: 5376)
        tiny[100] = 2; tiny[101] = 2
        let few = try OracleSampler(pointsPerClass: 20).points(cellLabels: tiny)
        #expect(few.filter { $0.label == 2 }.map(\.location).sorted() == [100, 101])
        #expect(throws: DiagnosticsError.self) { _ = try OracleSampler(pointsPerClass: 0).points(cellLabels: tiny) }
        #expect(throws: DiagnosticsError.self) { _ = try OracleSampler(strategy: .diverse).points(cellLabels: tiny) }
    }

    @Test("dense oracle points: every cell of the strided grid with its true label, ignored cells left out")
    func oracleDense() throws {
        var cells = [UInt8](repeating: 0, count: 5376)   // 64×84
        cells[4 * 84 + 8] = 3        // on the stride-4 grid
        cells[4 * 84 + 9] = 3        // off the grid: never a point
        cells[8 * 84 + 0] = 255      // ignored: left out
        cells[0] = 1
        let points = try OracleSampler(strategy: .dense).points(cellLabels: cells)
        #expect(points.count == 16 * 21 - 1)
        #expect(points.prefix(2).map(\.label) == [1, 3] && points.prefix(2).map(\.location) == [0, 4 * 84 + 8])
        for p in points {
            #expect((p.location / 84) % 4 == 0 && (p.location % 84) % 4 == 0)
            #expect(cells[p.location] == UInt8(p.label))
        }
        #expect(!points.contains { $0.location == 8 * 84 })
        let stride2 = try OracleSampler(strategy: .dense, denseStride: 2).points(cellLabels: cells)
        #expect(stride2.count == 32 * 42 - 1)
        #expect(throws: DiagnosticsError.self) { _ = try OracleSampler(strategy: .dense, denseStride: 0).points(cellLabels: cells) }
    }
}

/// The oracle and the measurement loop on real coco-mini images (features from the
/// ``LocalizerFixture`` cache).
@Suite("Diagnostics: oracle and measurements on real coco-mini images", .serialized)
struct DiagnosticsRealTests {
    static let classes = ["giraffe", "person", "diningtable"]

    static func fixtureSamples() throws -> (LocalizerFixture.Images, [DatasetSample]) {
        let fixture = try LocalizerFixture.giraffe.get()
        let paths = Set(fixture.positives + fixture.negatives)
        return (fixture, fixture.samples.filter { paths.contains($0.imagePath) && $0.hasGroundTruth })
    }

    @Test("uniform oracle points: inside each present class's mask, background on true background")
    func oracleUniform() throws {
        let (_, samples) = try Self.fixtureSamples()
        #expect(samples.count == 14)
        let oracle = OracleSampler(pointsPerClass: 20, seed: 9)
        for sample in samples {
            let cells = PipelineDiagnostics.cellLabels(of: try sample.groundTruth(classes: Self.classes)!)
            let points = try oracle.points(cellLabels: cells, imageID: sample.id)
            for p in points { #expect(cells[p.location] == UInt8(p.label), "\(sample.id): \(p)") }
            for label in 0...3 {
                let available = cells.filter { $0 == UInt8(label) }.count
                #expect(points.filter { $0.label == label }.count == min(20, available))
            }
            #expect(try oracle.points(cellLabels: cells, imageID: sample.id) == points)   // seeded
        }
    }

    @Test("diverse oracle points stay inside the masks and spread out")
    func oracleDiverse() throws {
        let (fixture, samples) = try Self.fixtureSamples()
        let sample = samples.first { $0.tags.contains("giraffe") }!
        let cells = PipelineDiagnostics.cellLabels(of: try sample.groundTruth(classes: Self.classes)!)
        let similarity = try FeatureSimilarity(hypercolumns: try fixture.features(sample.imagePath).expanded())
        let diverse = try OracleSampler(pointsPerClass: 20, strategy: .diverse).points(cellLabels: cells, similarity: similarity)
        let uniform = try OracleSampler(pointsPerClass: 20).points(cellLabels: cells)
        for p in diverse { #expect(cells[p.location] == UInt8(p.label)) }
        #expect(diverse.filter { $0.label == 1 }.count == 20 && diverse.filter { $0.label == 0 }.count == 20)
        let giraffe = { (points: [LabeledPoint]) in points.filter { $0.label == 1 }.map(\.location) }
        // Farthest-point picks are less alike than random ones.
        #expect(similarity.meanPairwiseSimilarity(giraffe(diverse)) < similarity.meanPairwiseSimilarity(giraffe(uniform)))
    }

    @Test("the oracle ceiling trains a segmenter on mask points and evaluates it")
    func ceiling() throws {
        let (fixture, samples) = try Self.fixtureSamples()
        let train = Array(samples.prefix(6)), eval = Array(samples.suffix(2))
        var trainer = SegmenterTrainer(hiddenUnits: 64, epochs: 2)
        trainer.seed = 1
        var phases: [OracleCeiling.Phase] = []
        let (ceiling, segmenter, scores) = try OracleCeiling.run(
            trainSamples: train, evalSamples: eval, classes: Self.classes,
            oracle: OracleSampler(pointsPerClass: 10), trainer: trainer,
            features: { try fixture.features($0) }, progress: { phases.append($0) })
        #expect(segmenter.classes == ["background"] + Self.classes)
        #expect(ceiling.trainImages == 6 && ceiling.evalImages == 2)
        #expect(ceiling.pointsPerLabel.reduce(0, +) == ceiling.points)
        #expect(ceiling.pointsPerLabel[0] == 60)
        #expect(scores.summary == ceiling.scores && scores.meanIoU > 0)
        #expect(phases.contains(.sampling(done: 6, total: 6)) && phases.contains(.evaluation(done: 2, total: 2)))
        // The training set is built like the retrainer's: hypercolumn then global descriptor.
        let built = try OracleSampler(pointsPerClass: 10).trainingSet(samples: Array(train.prefix(1)), classes: Self.classes,
                                                                    features: { try fixture.features($0) })
        #expect(built.set.featureChannels == 4224 && built.set.globalCount == 512)
        #expect(built.images == 1 && built.set.count == built.pointsPerLabel.reduce(0, +))
    }

    @Test("measure counts pointing and sampling on tagged images with masks")
    func measure() throws {
        let (fixture, samples) = try Self.fixtureSamples()
        let giraffes = samples.filter { $0.tags.contains("giraffe") }.prefix(3)
        let other = samples.first { !$0.tags.contains("giraffe") && !$0.tags.contains("person") && !$0.tags.contains("diningtable") }!
        let localizer = MaxPooledLocalizer(randomWithHiddenUnits: 4, className: "giraffe", seed: 2)
        #expect(throws: DiagnosticsError.localizerCountMismatch(classes: 2, localizers: 1)) {
            _ = try PipelineDiagnostics(classes: ["giraffe", "person"], localizers: [localizer])
        }
        let diagnostics = try PipelineDiagnostics(classes: ["giraffe"], localizers: [localizer])
        var ticks = 0
        let report = try diagnostics.measure(samples: Array(giraffes) + [other],
                                             features: { try fixture.features($0) }, progress: { _, _ in ticks += 1 })
        #expect(ticks == 4 && report.images == 4 && report.imagesWithMasks == 4)
        let tally = report.pointing[0]
        #expect(tally.counted + tally.ignored == 3 && tally.withoutGroundTruth == 0)
        let sampling = try #require(report.sampling)
        #expect(sampling.images == 3)
        #expect(sampling.foreground[0].picks == 60 && sampling.background.picks == 60)
        let text = report.text()
        #expect(text.contains("pointing accuracy") && text.contains("sampling precision") && text.contains("giraffe"))
        let decoded = try JSONDecoder().decode(DiagnosticsReport.self, from: try report.jsonData())
        #expect(decoded == report)
        print(text)
    }
}
