import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import Testing
import DivSegDatasets
import DivSegExperiments
import DivSegMethodTestSupport

/// The CAM peer on the 16 real coco-mini images of ``LocalizerFixture`` (8 giraffes, 8 other
/// scenes; features from the fixture's persistent cache).
@Suite("CAM baseline: classifier, class maps, threshold, files", .serialized)
struct CAMBaselineTests {
    static let classes = ["giraffe", "person", "diningtable"]

    static let trained: Result<(cam: CAMBaseline, report: CAMTrainer.Report, samples: [DatasetSample],
                                fixture: LocalizerFixture.Images, progress: [CAMTrainer.Progress]), any Error> = Result {
        let fixture = try LocalizerFixture.giraffe.get()
        let paths = Set(fixture.positives + fixture.negatives)
        let samples = fixture.samples.filter { paths.contains($0.imagePath) }
        var progress: [CAMTrainer.Progress] = []
        let (cam, report) = try CAMTrainer(seed: 5).train(samples: samples, classes: classes,
                                                          features: { try fixture.features($0) },
                                                          progress: { progress.append($0) })
        return (cam, report, samples, fixture, progress)
    }

    @Test("the classifier learns the training tags")
    func learnsTags() throws {
        let (cam, report, samples, fixture, progress) = try Self.trained.get()
        #expect(samples.count == 16)
        #expect(report.images == 16 && report.positives == [8, 5, 2])
        #expect(report.epochLosses.count == 300)
        #expect(report.epochLosses.last! < 0.2 * report.epochLosses.first!, "losses \(report.epochLosses.first!) → \(report.epochLosses.last!)")
        #expect(report.trainingAccuracy >= 0.95, "training accuracy \(report.trainingAccuracy)")
        #expect(report.exactMatchRate >= 0.9, "exact tag sets \(report.exactMatchRate)")
        // Probabilities agree with the tags on the training images.
        for sample in samples {
            let p = try cam.probabilities(try fixture.features(sample.imagePath))
            #expect((p[0] > 0.5) == sample.tags.contains("giraffe"), "\(sample.id): p(giraffe) = \(p[0])")
        }
        #expect(progress.filter { if case .features = $0 { return true } else { return false } }.count == 16)
        #expect(progress.contains(.training(epoch: 300, epochs: 300, loss: report.epochLosses.last!)))
    }

    @Test("the threshold comes from the grid, chosen on the images with masks")
    func threshold() throws {
        let (cam, report, _, _, _) = try Self.trained.get()
        let grid = CAMTrainer().thresholds
        #expect(grid.count == 12 && abs(grid.first! - 0.05) < 1e-6 && abs(grid.last! - 0.6) < 1e-6)
        #expect(grid.contains(cam.threshold) && cam.threshold == report.threshold)
        #expect(report.imagesWithMasks == 14)
        #expect(report.thresholdCandidates.map(\.threshold) == grid)
        let best = report.thresholdCandidates.compactMap(\.meanIoU).max()!
        #expect(report.thresholdCandidates.first { $0.threshold == cam.threshold }!.meanIoU == best)
        print("CAM threshold search: " + report.thresholdCandidates
            .map { String(format: "%.2f→%.1f", $0.threshold, $0.meanIoU ?? -1) }.joined(separator: " "))
    }

    @Test("class maps are normalised by their peak and scaled by the probability")
    func classMaps() throws {
        let (cam, _, samples, fixture, _) = try Self.trained.get()
        let compact = try fixture.features(samples[0].imagePath)
        let maps = try cam.classMaps(compact)
        let p = try cam.probabilities(compact)
        #expect(maps.shape == [3, 16, 21])
        for c in 0..<3 {
            let peak = maps.scalars[(c * 336)..<((c + 1) * 336)].max()!
            if peak > 0 { #expect(abs(peak - p[c]) <= 1e-5 * max(1, p[c]), "class \(c): peak \(peak), p \(p[c])") }
        }
        #expect(try CAMBaseline.pooledFeatures(compact).count == 512)
        #expect(try CAMBaseline.block5Conv3(compact).shape == [512, 16, 21])
    }

    @Test("predictions hold labels 0…C at the image's size")
    func predictionLabels() throws {
        let (cam, _, samples, fixture, _) = try Self.trained.get()
        var giraffePixels = 0
        for sample in samples.prefix(6) {
            guard let truth = try sample.groundTruth(classes: Self.classes) else { continue }
            let labels = try cam.predict(features: try fixture.features(sample.imagePath),
                                         imageSize: (width: truth.width, height: truth.height))
            #expect(labels.width == truth.width && labels.height == truth.height)
            #expect(labels.labels.allSatisfy { $0 <= 3 })
            if sample.tags.contains("giraffe") { giraffePixels += labels.labels.filter { $0 == 1 }.count }
        }
        #expect(giraffePixels > 0)
        // Evaluated with the same protocol as the segmenter.
        let scores = try PredictionEvaluator.evaluate(samples: samples, classes: Self.classes) { sample, size in
            try cam.predict(features: try fixture.features(sample.imagePath), imageSize: size)
        }
        #expect(scores.classes.count == 4 && scores.meanIoU > 0)
        print("CAM on its 16 training images:\n" + scores.table())
        #expect(throws: BaselineError.self) {
            _ = try cam.predict(features: try fixture.features(samples[0].imagePath), imageSize: (width: 0, height: 4))
        }
    }

    @Test("save and load give the same baseline; a foreign file is refused")
    func files() throws {
        let (cam, _, _, _, _) = try Self.trained.get()
        let dir = try LocalizerFixture.temporaryDirectory("cam")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/cam.json"
        try cam.save(to: path)
        #expect(try CAMBaseline(contentsOf: path) == cam)
        try Data("{\"format\": \"something-else\"}".utf8).write(to: URL(fileURLWithPath: dir + "/bad.json"))
        let malformed = #expect(throws: BaselineError.self) { _ = try CAMBaseline(contentsOf: dir + "/bad.json") }
        if case .malformedFile = malformed {} else { Issue.record("expected malformedFile, got \(String(describing: malformed))") }
        let missing = #expect(throws: BaselineError.self) { _ = try CAMBaseline(contentsOf: dir + "/missing.json") }
        if case .fileFailed = missing {} else { Issue.record("expected fileFailed, got \(String(describing: missing))") }
    }

    @Test("settings and class lists are checked")
    func validation() {
        #expect(throws: BaselineError.invalidClasses(detail: "\"cat\" appears twice")) {
            _ = try CAMTrainer().train(samples: [], classes: ["cat", "cat"], features: { _ in fatalError() })
        }
        #expect(throws: BaselineError.noTrainingImages) {
            _ = try CAMTrainer().train(samples: [], classes: ["cat"], features: { _ in fatalError() })
        }
        #expect(throws: BaselineError.self) { try CAMTrainer(epochs: 0).validate() }
        #expect(throws: BaselineError.self) { try CAMTrainer(thresholds: []).validate() }
        #expect(throws: BaselineError.self) {
            _ = try CAMBaseline(classes: ["cat"], weights: [1], bias: [0], inputScale: [1], threshold: 0.2)
        }
    }
}

/// The threshold search and the localizer-argmax baseline on score maps made from real masks.
@Suite("CAM peers: threshold search and localizer-argmax baseline")
struct CAMThresholdTests {
    @Test("a grid holds its end points")
    func grid() {
        #expect(ThresholdSearch.grid(from: 0.1, through: 1.5, by: 0.1).count == 15)
        #expect(LocalizerArgmaxBaseline.defaultThresholds.count == 15)
        #expect(ThresholdSearch.grid(from: 0, through: 0, by: 1) == [0])
    }

    @Test("the labelling rule: strongest class at or above the threshold, else background")
    func labellingRule() throws {
        // Two classes on a 1×2 grid, resized to 1×2 (identity): pixel 0 class 2 wins, pixel 1 below τ.
        let maps = Tensor(shape: [2, 1, 2], scalars: [0.3, 0.1, 0.5, 0.19])
        #expect(ThresholdSearch.labels(classMaps: maps, threshold: 0.2, height: 1, width: 2).labels == [2, 0])
        #expect(ThresholdSearch.labels(classMaps: maps, threshold: 0.5, height: 1, width: 2).labels == [2, 0])
        #expect(ThresholdSearch.labels(classMaps: maps, threshold: 0.6, height: 1, width: 2).labels == [0, 0])
        #expect(ThresholdSearch.labels(classMaps: maps, threshold: 0.1, height: 1, width: 2).labels == [2, 2])
        var search = try ThresholdSearch(thresholds: [0.2, 0.6], classes: ["a", "b"])
        try search.add(classMaps: maps, groundTruth: LabelMap(width: 2, height: 1, labels: [2, 0]))
        #expect(search.candidates().map(\.meanIoU) == [100, 25])
        #expect(try search.best().threshold == 0.2)
        #expect(throws: BaselineError.self) {
            try search.add(classMaps: Tensor(zeros: [3, 1, 2]), groundTruth: LabelMap(width: 2, height: 1, labels: [0, 0]))
        }
    }

    @Test("mask-shaped score maps: the argmax baseline picks a threshold below the peaks")
    func argmaxOnMasks() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        let giraffes = fixture.samples.filter { fixture.positives.contains($0.imagePath) }
        let classes = ["giraffe", "person"]
        /// Score 1 on the class's cells, 0 elsewhere: a perfect localizer on the grid.
        func scores(_ sample: DatasetSample) throws -> [[Float]] {
            let cells = PipelineDiagnostics.cellLabels(of: try sample.groundTruth(classes: classes)!)
            return (1...2).map { label in cells.map { $0 == UInt8(label) ? 1 : 0 } }
        }
        let (baseline, candidates) = try LocalizerArgmaxBaseline.calibrate(classes: classes, samples: giraffes,
                                                                           scores: scores)
        #expect(candidates.count == 15)
        #expect(baseline.threshold <= 1.0)
        let best = candidates.first { $0.threshold == baseline.threshold }!.meanIoU!
        #expect(best > 60, "mIoU \(best)")
        #expect(candidates.last!.meanIoU! < best)     // τ = 1.5: everything background
        let sample = giraffes[0]
        let truth = try sample.groundTruth(classes: classes)!
        let labels = try baseline.predict(scores: try scores(sample), imageSize: (width: truth.width, height: truth.height))
        #expect(labels.labels.allSatisfy { $0 <= 2 } && labels.labels.contains(1))
        #expect(throws: BaselineError.self) {
            _ = try baseline.predict(scores: [[Float](repeating: 0, count: 5376)], imageSize: (width: 4, height: 4))
        }
    }

    @Test("out-of-range settings are refused by validate(), with the bound")
    func settingBounds() throws {
        var cam = CAMTrainer()
        cam.epochs = 1_000_000_000
        #expect(throws: BaselineError.self) { try cam.validate() }
        #expect(throws: Never.self) { try CAMTrainer().validate() }
    }
}
