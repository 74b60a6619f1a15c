import DivSeg
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

@Suite("Evaluation: a real VOC 2012 mask")
struct EvaluationVOCTests {
    static let classNames = [
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
        "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
        "sheep", "sofa", "train", "tvmonitor",
    ]
    static var maskPath: String { SharedData.voc2012Masks + "/2007_000129.png" }

    @Test("the mask against itself: IoU 100 for present classes, the others absent")
    func againstItself() throws {
        let truth = try ImageDecoder.decodeLabels(contentsOf: Self.maskPath)
        // The prediction has no ignore label: where the truth says 255, predict background.
        let prediction = LabelMap(width: truth.width, height: truth.height,
                                  labels: truth.labels.map { $0 == 255 ? 0 : $0 })
        var matrix = ConfusionMatrix(classCount: 21)
        try matrix.add(groundTruth: truth, prediction: prediction)
        let scores = try SegmentationScores(matrix: matrix, classNames: Self.classNames)

        let present = Set(truth.labels.filter { $0 != 255 }.map(Int.init))
        #expect(present == [0, 2, 15])   // background, bicycle, person
        for (label, score) in scores.classes.enumerated() {
            if present.contains(label) {
                #expect(score.iou == 100, "\(score.name)")
            } else {
                #expect(score.iou == nil, "\(score.name)")
            }
        }
        #expect(scores.absentClasses.count == 18)
        #expect(scores.meanIoU == 100 && scores.pixelAccuracy == 100)
        #expect(matrix.ignoredPixels == Int64(truth.labels.filter { $0 == 255 }.count))
        #expect(scores.table().split(separator: "\n").last!.hasPrefix("mIoU"))
    }

    @Test("the mask against an all-background prediction")
    func againstBackground() throws {
        let truth = try ImageDecoder.decodeLabels(contentsOf: Self.maskPath)
        let prediction = LabelMap(width: truth.width, height: truth.height,
                                  labels: [UInt8](repeating: 0, count: truth.labels.count))
        var matrix = ConfusionMatrix(classCount: 21)
        try matrix.add(groundTruth: truth, prediction: prediction)
        let scores = try SegmentationScores(matrix: matrix, classNames: Self.classNames)

        let background = Double(truth.labels.filter { $0 == 0 }.count)
        let counted = Double(truth.labels.filter { $0 != 255 }.count)
        let iou = try #require(scores.classes[0].iou)
        #expect(iou < 100)
        #expect(abs(iou - 100 * background / counted) < 1e-9)   // TP / (TP + FP), FN = 0
        #expect(scores.classes[2].iou == 0 && scores.classes[15].iou == 0)
        #expect(scores.perClassIoU.count == 3)
        #expect(abs(scores.meanIoU - iou / 3) < 1e-9)
        #expect(abs(scores.pixelAccuracy - iou) < 1e-9)
    }
}
