import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import Testing

/// Training points from the ground-truth masks of the fixture images: 30 inside the object,
/// 30 outside, per image (180 points, classes background / giraffe / elephant).
enum SegmenterFixture {
    static let trainingSet: Result<SegmenterTrainingSet, any Error> = Result {
        let cases = try RealPointsFixture.cases.get()
        var set = SegmenterTrainingSet(globalCount: cases[0].features.global.count)
        for (index, image) in cases.enumerated() {
            let points = RealPointsFixture.maskPoints(image, count: 30, seed: UInt64(index))
            try set.append(points: points, hypercolumns: image.features.features, global: image.features.global)
        }
        return set
    }

    /// A segmenter fitted to the training points (small batches and more epochs than the
    /// paper's schedule, since there are only 180 points).
    static let fitted: Result<(segmenter: Segmenter, report: SegmenterTrainer.Report), any Error> = Result {
        let trainer = SegmenterTrainer(epochs: 20, batchSize: 30, seed: 1)
        return try trainer.train(on: trainingSet.get(), classes: RealPointsFixture.classes)
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-segmenter-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

@Suite("Segmenter: training on real points")
struct SegmenterTrainingTests {
    @Test("the training set holds the hypercolumn column and the global descriptor per point")
    func trainingSetRows() throws {
        let image = try RealPointsFixture.cases.get()[0]
        let set = try SegmenterFixture.trainingSet.get()
        #expect(set.count == 180)
        #expect(set.dimension == FeatureGrid.channels + image.features.global.count)
        #expect(set.labelCounts() == [90, 60, 30])
        let points = RealPointsFixture.maskPoints(image, count: 30, seed: 0)
        for (r, point) in points.enumerated().filter({ [0, 29, 30, 59].contains($0.offset) }) {
            let row = Array(set.row(r))
            let (y, x) = (point.location / FeatureGrid.width, point.location % FeatureGrid.width)
            for c in [0, 63, 64, 1000, 4223] { #expect(row[c] == image.features.features[c, y, x]) }
            #expect(Array(row[FeatureGrid.channels...]) == image.features.global)
            #expect(Int(set.labels[r]) == point.label)
        }
        let (mean, std) = set.statistics()
        for j in [0, 500, 4223, 4500] {
            let column = (0..<set.count).map { Double(set.features[$0 * set.dimension + j]) }
            let m = column.reduce(0, +) / Double(set.count)
            let sd = (column.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(set.count)).squareRoot()
            #expect(abs(Double(mean[j]) - m) <= 1e-4 * max(1, abs(m)))
            #expect(std[j] == 0 || abs(Double(std[j]) - sd) <= 1e-3 * max(1, sd))
        }
    }

    @Test("the loss falls and the training points are fitted")
    func learns() throws {
        let set = try SegmenterFixture.trainingSet.get()
        let (segmenter, report) = try SegmenterFixture.fitted.get()
        #expect(report.epochLosses.count == 20)
        #expect(report.epochLosses.last! < 0.25 * report.epochLosses.first!, "losses \(report.epochLosses)")
        let accuracy = try segmenter.accuracy(on: set)
        #expect(accuracy >= 0.95, "training accuracy \(accuracy)")
        #expect(segmenter.classes == RealPointsFixture.classes)
        #expect(segmenter.featureRule == FeatureGrid.ruleName)
        #expect(segmenter.hiddenUnits == 512)
        // The paper's own schedule (2 epochs of 100-point batches) also lowers the loss.
        let paper = try SegmenterTrainer().train(on: set, classes: RealPointsFixture.classes).report
        #expect(paper.epochLosses.count == 2 && paper.batchesPerEpoch == 2)
        #expect(paper.epochLosses[1] < paper.epochLosses[0])
    }

    @Test("retraining is deterministic: same seed, same bits; another seed, other weights")
    func deterministic() throws {
        let set = try SegmenterFixture.trainingSet.get()
        let trainer = SegmenterTrainer(epochs: 3, batchSize: 50, seed: 42)
        let a = try trainer.train(on: set, classes: RealPointsFixture.classes).segmenter
        let b = try trainer.train(on: set, classes: RealPointsFixture.classes).segmenter
        #expect(a.parameters == b.parameters)
        var other = trainer
        other.seed = 43
        let c = try other.train(on: set, classes: RealPointsFixture.classes).segmenter
        #expect(a.parameters.hiddenWeights != c.parameters.hiddenWeights)
        #expect(a.parameters.inputMean == c.parameters.inputMean)
    }

    @Test("progress is reported after every batch, up to 1")
    func progress() throws {
        let set = try SegmenterFixture.trainingSet.get()
        var fractions: [Double] = []
        _ = try SegmenterTrainer(epochs: 2, batchSize: 40, seed: 5)
            .train(on: set, classes: RealPointsFixture.classes) { fractions.append($0.fraction) }
        #expect(fractions.count == 10)
        #expect(fractions == fractions.sorted() && fractions.last == 1)
    }

    @Test("class-balanced weighting and momentum SGD train too")
    func variants() throws {
        let set = try SegmenterFixture.trainingSet.get()
        var balanced = SegmenterTrainer(epochs: 10, batchSize: 30, seed: 1)
        balanced.classBalanced = true
        let (segmenter, report) = try balanced.train(on: set, classes: RealPointsFixture.classes)
        #expect(report.epochLosses.last! < report.epochLosses.first!)
        #expect(try segmenter.accuracy(on: set) >= 0.9)
        let sgd = SegmenterTrainer(epochs: 10, batchSize: 30, optimizer: .momentum, learningRate: 1e-2, seed: 1)
        let (fitted, sgdReport) = try sgd.train(on: set, classes: RealPointsFixture.classes)
        #expect(sgdReport.epochLosses.last! < 0.5 * sgdReport.epochLosses.first!, "losses \(sgdReport.epochLosses)")
        #expect(try fitted.accuracy(on: set) >= 0.9)
    }

    @Test("bad training inputs are refused with specific errors")
    func errors() throws {
        let set = try SegmenterFixture.trainingSet.get()
        let trainer = SegmenterTrainer(epochs: 1)
        #expect(throws: SegmenterError.labelOutOfRange(label: 2, classCount: 2)) {
            try trainer.train(on: set, classes: ["background", "giraffe"])
        }
        #expect(throws: SegmenterError.invalidClasses(detail: "label 0 is \"giraffe\", not \"background\"")) {
            try trainer.train(on: set, classes: ["giraffe", "background", "elephant"])
        }
        #expect(throws: SegmenterError.emptyTrainingSet) {
            try trainer.train(on: SegmenterTrainingSet(globalCount: 512), classes: ["background"])
        }
        #expect(throws: SegmenterError.self) {
            try SegmenterTrainer(batchSize: 0).train(on: set, classes: RealPointsFixture.classes)
        }
        var copy = set
        let image = try RealPointsFixture.cases.get()[0]
        #expect(throws: SegmenterError.self) {
            try copy.append(points: [LabeledPoint(location: 1, label: 1)], hypercolumns: image.features.features,
                            global: [1, 2, 3])
        }
        #expect(throws: SegmenterError.self) {
            try copy.append(points: [LabeledPoint(location: 99_999, label: 1)], hypercolumns: image.features.features,
                            global: image.features.global)
        }
        #expect(copy == set)
        let message = SegmenterError.labelOutOfRange(label: 5, classCount: 3).description
        #expect(message.contains("label 5") && message.contains("3 classes"))
    }
}

@Suite("Segmenter: inference and files")
struct SegmenterModelTests {
    @Test("per-image logits (folded weights, global bias, one GEMM) equal the naive per-location network")
    func shortcutEqualsNaive() throws {
        let segmenter = try SegmenterFixture.fitted.get().segmenter
        let image = try RealPointsFixture.cases.get()[1]
        let logits = try segmenter.logits(image.features)
        #expect(logits.shape == [3, FeatureGrid.height, FeatureGrid.width])
        var rows: [Float] = []
        let probes = stride(from: 0, to: FeatureGrid.locations, by: 97).map { $0 }
        var set = SegmenterTrainingSet(globalCount: image.features.global.count)
        try set.append(points: probes.map { LabeledPoint(location: $0, label: 0) },
                       hypercolumns: image.features.features, global: image.features.global)
        rows = set.features
        let batched = try segmenter.logits(rows: rows)
        var worst: Float = 0
        for (r, location) in probes.enumerated() {
            let naive = try segmenter.referenceLogits(vector: Array(set.row(r)))
            for k in 0..<3 {
                let fast = logits.scalars[k * FeatureGrid.locations + location]
                worst = max(worst, abs(fast - naive[k]) / max(1, abs(naive[k])))
                worst = max(worst, abs(batched[r * 3 + k] - naive[k]) / max(1, abs(naive[k])))
            }
        }
        #expect(worst < 1e-3, "largest relative difference \(worst)")
        // The fitted model segments the object: most in-object cells get the image's class.
        let inside = image.maskFraction.indices.filter { image.maskFraction[$0] >= 0.9 }
        let predictedInside = inside.filter { i in
            (0..<3).max { logits.scalars[$0 * FeatureGrid.locations + i] < logits.scalars[$1 * FeatureGrid.locations + i] } == image.label
        }
        #expect(Double(predictedInside.count) > 0.5 * Double(inside.count))
    }

    @Test("logits from per-group (compact) hypercolumns equal those of the expanded tensor")
    func compactEqualsExpanded() throws {
        let segmenter = try SegmenterFixture.fitted.get().segmenter
        for image in try RealPointsFixture.cases.get() {
            let full = try segmenter.logits(image.features)
            let compact = try segmenter.logits(image.compact)
            #expect(compact.shape == full.shape)
            let scale = full.scalars.map(abs).max()!
            let worst = zip(full.scalars, compact.scalars).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4 * max(1, scale), "\(image.id): worst difference \(worst), logit scale \(scale)")
        }
    }

    @Test("save and load round-trip: same parameters, classes, fingerprint, identical logits")
    func roundTrip() throws {
        var segmenter = try SegmenterFixture.fitted.get().segmenter
        segmenter.fingerprint = "classes:giraffe,elephant@abc123"
        let dir = try SegmenterFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("segmenter.h5").path
        try segmenter.save(to: path)
        let loaded = try Segmenter(contentsOf: path)
        #expect(loaded.parameters == segmenter.parameters)
        #expect(loaded.classes == segmenter.classes)
        #expect(loaded.fingerprint == "classes:giraffe,elephant@abc123")
        #expect(loaded.featureRule == FeatureGrid.ruleName)
        #expect(loaded.featureChannels == FeatureGrid.channels)
        let image = try RealPointsFixture.cases.get()[2]
        #expect(try loaded.logits(image.features) == segmenter.logits(image.features))
        let file = try HDF5File.open(path)
        defer { file.close() }
        #expect(try file.shape(of: "hidden/kernel") == [512, segmenter.parameters.inputCount])
        #expect(try file.stringArrayAttribute("classes") == RealPointsFixture.classes)
    }

    @Test("files for another feature rule, other formats and inconsistent shapes are refused")
    func refusals() throws {
        let fitted = try SegmenterFixture.fitted.get().segmenter
        let dir = try SegmenterFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }

        let otherRule = dir.appendingPathComponent("other-rule.h5").path
        var foreign = fitted
        foreign.featureRule = "resnet50-hypercolumn@32x42"
        try foreign.save(to: otherRule)
        #expect(throws: SegmenterError.incompatibleFeatureRule(
            path: otherRule, found: "resnet50-hypercolumn@32x42", expected: FeatureGrid.ruleName)) {
            try Segmenter(contentsOf: otherRule)
        }
        #expect(try Segmenter(contentsOf: otherRule, featureRule: "resnet50-hypercolumn@32x42").classes == fitted.classes)

        let plain = dir.appendingPathComponent("plain.h5").path
        try HDF5File.writeAtomically(to: plain) { try $0.writeFloats("x", [1, 2], shape: [2]) }
        #expect(throws: SegmenterError.malformedFile(
            path: plain, detail: "it has no 'format' attribute, so it is not a divseg segmenter file")) {
            try Segmenter(contentsOf: plain)
        }

        let broken = dir.appendingPathComponent("broken.h5").path
        try fitted.save(to: broken)
        let p = fitted.parameters
        // Rewrite the file with an output layer for 4 classes but 3 class names.
        try HDF5File.writeAtomically(to: broken) { file in
            try file.writeFloats("hidden/kernel", p.hiddenWeights, shape: [p.hiddenUnits, p.inputCount])
            try file.writeFloats("hidden/bias", p.hiddenBias, shape: [p.hiddenUnits])
            try file.writeFloats("output/kernel", [Float](repeating: 0, count: 4 * p.hiddenUnits), shape: [4, p.hiddenUnits])
            try file.writeFloats("output/bias", [0, 0, 0, 0], shape: [4])
            try file.writeFloats("input/mean", p.inputMean, shape: [p.inputCount])
            try file.writeFloats("input/std", p.inputStd, shape: [p.inputCount])
            try file.setStringAttribute("format", Segmenter.formatName)
            try file.setStringArrayAttribute("classes", fitted.classes)
            try file.setStringAttribute("feature_rule", FeatureGrid.ruleName)
            try file.setStringAttribute("fingerprint", "")
            try file.setFloatAttribute("hypercolumn_channels", Float(FeatureGrid.channels))
        }
        #expect(throws: SegmenterError.malformedFile(
            path: broken, detail: "output/kernel has 4 classes but the file names 3")) {
            try Segmenter(contentsOf: broken)
        }
        let missing = dir.appendingPathComponent("missing.h5").path
        #expect(throws: HDF5Error.fileNotFound(path: missing)) { try Segmenter(contentsOf: missing) }
    }

    @Test("inputs of the wrong shape are refused")
    func inputErrors() throws {
        let segmenter = try SegmenterFixture.fitted.get().segmenter
        let image = try RealPointsFixture.cases.get()[0]
        #expect(throws: SegmenterError.self) {
            try segmenter.logits(hypercolumns: image.features.features, global: [0, 1])
        }
        #expect(throws: SegmenterError.self) {
            try segmenter.logits(hypercolumns: Tensor(zeros: [10, 4, 4]), global: image.features.global)
        }
        #expect(throws: SegmenterError.self) { try segmenter.logits(rows: [1, 2, 3]) }
        #expect(throws: SegmenterError.self) {
            try Segmenter(classes: ["background", "a"], parameters: segmenter.parameters)
        }
    }
}
