import DivSegKit
import DivSegTestSupport
import Foundation
import Testing
import DivSegDatasets

/// Refactoring must not change what the shipped registry predicts: its label maps for the
/// first 12 coco-mini val2017 images are kept in `Golden/` together with the SHA-256 of the
/// segmenter that made them. On the machine that made them they are byte-identical; another
/// CPU's convolution kernels round differently, which may move a label at an object's
/// border (nowhere near the 0.5 % of pixels allowed here), while a change of behaviour moves
/// far more. When the shipped segmenter is retrained on purpose, regenerate them with
/// `DIVSEG_UPDATE_GOLDEN=1 swift test -c release --filter ShippedPredictionsTests`.
/// The maps are the segmenter's plain argmax (``PredictionAdjustment/none``, no localizer
/// maps added, no CRF): the default prediction rules drop a class below 2 % of an image, a threshold that one location decided
/// by another CPU's rounding could cross, moving a whole class; the rules and the CRF have their own
/// tests (`PredictionAdjustmentTests`, `SegmentationEvaluatorRulesTests`, `DenseCRFTests`).
@Suite("The shipped registry's predictions stay what they were")
struct ShippedPredictionsTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path
    static let count = 12

    @Test("label maps of val2017 images agree with the golden ones")
    func predictionsAgree() throws {
        let registry = try Backbone.load(weightsAt: SharedData.weights).registry(at: SharedData.shippedRegistry)
        let segmenterSHA = try FileDigest.sha256(ofFileAt: SharedData.shippedRegistry + "/" + Registry.segmenterFileName)
        let val = try Dataset.open(spec: "coco:" + SharedData.cocoMini, split: "val").samples
            .sorted { $0.imagePath < $1.imagePath }.prefix(Self.count)
        #expect(val.count == Self.count)
        var pipeline = try registry.pipeline(crf: nil)
        pipeline.adjustment = .none
        pipeline.localizerFusion = nil
        let update = ProcessInfo.processInfo.environment["DIVSEG_UPDATE_GOLDEN"] == "1"
        if update {
            try FileManager.default.createDirectory(atPath: Self.golden, withIntermediateDirectories: true)
            try Data((segmenterSHA + "\n").utf8).write(to: URL(fileURLWithPath: Self.golden + "/segmenter.sha256"))
        }
        let recorded = try String(contentsOfFile: Self.golden + "/segmenter.sha256", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(recorded == segmenterSHA, """
            classes/segmenter.h5 is not the segmenter the golden label maps were made with: if it was \
            retrained on purpose, regenerate them (DIVSEG_UPDATE_GOLDEN=1, see the suite's comment)
            """)
        var identical = 0
        for sample in val {
            let name = URL(fileURLWithPath: sample.imagePath).deletingPathExtension().lastPathComponent + ".png"
            let labels = try pipeline.segment(try ImageDecoder.decodeRGB(contentsOf: sample.imagePath))
            if update { try PNGEncoder.write(labels, palette: .voc, to: Self.golden + "/" + name) }
            let expected = try ImageDecoder.decodeLabels(contentsOf: Self.golden + "/" + name)
            try #require(labels.width == expected.width && labels.height == expected.height, "\(name): size")
            let differing = zip(labels.labels, expected.labels).filter { $0 != $1 }.count
            if differing == 0 { identical += 1 }
            #expect(Double(differing) <= 0.005 * Double(labels.labels.count),
                    "\(name): \(differing) of \(labels.labels.count) pixels changed label")
        }
        print("shipped registry: \(identical) of \(val.count) val2017 label maps byte-identical to the golden ones")
    }
}
