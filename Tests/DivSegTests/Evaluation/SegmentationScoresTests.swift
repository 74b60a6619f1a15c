import DivSeg
import DivSegIO
import Foundation
import Testing

@Suite("Evaluation: scores, table and JSON")
struct EvaluationScoresTests {
    /// The 3×4 example with a fourth class, "bird", in neither ground truth nor prediction.
    static func tinyScores() throws -> SegmentationScores {
        var matrix = ConfusionMatrix(classCount: 4)
        try matrix.add(groundTruth: TinyExample.groundTruth, prediction: TinyExample.prediction)
        return try SegmentationScores(matrix: matrix, classNames: ["background", "cat", "dog", "bird"])
    }

    @Test("hand-computed IoU, mIoU and pixel accuracy, with an absent class")
    func handComputed() throws {
        let scores = try Self.tinyScores()
        // From the counts in EvaluationConfusionMatrixTests.handComputed:
        // background: TP 2, FN 1 (row 3 − 2), FP 1 (column 3 − 2) → 2 / 4 = 50 %
        // cat:        TP 3, FN 0,             FP 1 (column 4 − 3) → 3 / 4 = 75 %
        // dog:        TP 3, FN 1 (row 4 − 3), FP 0               → 3 / 4 = 75 %
        // bird:       TP + FP + FN = 0 → absent, not in the mean
        // mIoU = (50 + 75 + 75) / 3 = 66.67 %; pixel accuracy = 8 / 10 = 80 %
        #expect(scores.classes.map(\.iou) == [50, 75, 75, nil])
        #expect(abs(scores.meanIoU - 200.0 / 3) < 1e-9)
        #expect(abs(scores.pixelAccuracy - 80) < 1e-9)
        // Average accuracy: recall of the classes with ground truth (bird has none):
        // background 2/3, cat 3/3, dog 3/4 → (66.67 + 100 + 75) / 3 = 80.56 %
        #expect(abs(scores.averageAccuracy - (200.0 / 3 + 100 + 75) / 3) < 1e-9)
        #expect(scores.absentClasses == ["bird"])
        #expect(scores.perClassIoU == ["background": 50, "cat": 75, "dog": 75])
        #expect(scores.classes.map(\.groundTruthPixels) == [3, 3, 4, 0])
        #expect(scores.classes.map(\.predictedPixels) == [3, 4, 3, 0])
        #expect(scores.countedPixels == 10 && scores.ignoredPixels == 2)
    }

    @Test("a class only predicted, never annotated, is present with IoU 0")
    func falsePositiveClass() throws {
        var matrix = ConfusionMatrix(classCount: 3)
        let truth = LabelMap(width: 4, height: 1, labels: [0, 0, 1, 1])
        let prediction = LabelMap(width: 4, height: 1, labels: [0, 2, 1, 1])
        try matrix.add(groundTruth: truth, prediction: prediction)
        let scores = try SegmentationScores(matrix: matrix, classNames: ["background", "a", "b"])
        // background 1 / 2 = 50 %, a 2 / 2 = 100 %, b 0 / 1 = 0 % → mIoU 50 %
        #expect(scores.classes.map(\.iou) == [50, 100, 0])
        #expect(scores.absentClasses.isEmpty)
        #expect(abs(scores.meanIoU - 50) < 1e-9)
    }

    @Test("the table lists every class, marks absent ones and ends with mIoU")
    func table() throws {
        let table = try Self.tinyScores().table()
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.count == 1 + 4 + 3)
        #expect(lines[0].hasPrefix("class") && lines[0].contains("IoU %")
                && lines[0].contains("GT pixels") && lines[0].contains("predicted pixels"))
        #expect(lines[1].hasPrefix("background") && lines[1].contains("50.00"))
        #expect(lines[2].hasPrefix("cat") && lines[2].contains("75.00"))
        #expect(lines[4].hasPrefix("bird") && lines[4].contains("absent"))
        #expect(lines[5].hasPrefix("pixel accuracy") && lines[5].contains("80.00"))
        #expect(lines[6].hasPrefix("average accuracy") && lines[6].contains("80.56"))
        #expect(lines.last!.hasPrefix("mIoU") && lines.last!.contains("66.67"))
        // Aligned: fixed-width, right-aligned columns make header and class lines equally long,
        // and the IoU column ends at the same place on the footer lines.
        #expect(Set(lines[0..<5].map(\.count)).count == 1, "\n\(table)")
        let iouEnd = lines[1].range(of: "50.00")!.upperBound.utf16Offset(in: lines[1])
        #expect(lines[5].range(of: "80.00")!.upperBound.utf16Offset(in: lines[5]) == iouEnd)
        #expect(lines[6].range(of: "80.56")!.upperBound.utf16Offset(in: lines[6]) == iouEnd)
        #expect(lines[7].range(of: "66.67")!.upperBound.utf16Offset(in: lines[7]) == iouEnd)
    }

    @Test("JSON has exactly mIoU, perClass, absent, pixelAccuracy and averageAccuracy, with sorted keys")
    func json() throws {
        let scores = try Self.tinyScores()
        let data = try scores.jsonData()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["mIoU", "perClass", "absent", "pixelAccuracy", "averageAccuracy"])
        let perClass = try #require(object["perClass"] as? [String: Double])
        #expect(perClass == ["background": 50, "cat": 75, "dog": 75])
        #expect(object["absent"] as? [String] == ["bird"])
        let mIoU = try #require(object["mIoU"] as? Double)
        #expect(abs(mIoU - 200.0 / 3) < 1e-9)
        #expect(object["pixelAccuracy"] as? Double == 80)

        // Deterministic bytes, and the Encodable conformance writes the same object.
        let compact = String(decoding: try scores.jsonData(prettyPrinted: false), as: UTF8.self)
        #expect(compact.hasPrefix(#"{"absent":["bird"],"averageAccuracy":80.55"#))
        #expect(compact.contains(#","mIoU":66.66"#))
        #expect(compact.contains(#""perClass":{"background":50,"cat":75,"dog":75},"pixelAccuracy":80}"#))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(String(decoding: try encoder.encode(scores), as: UTF8.self) == compact)
        #expect(try JSONDecoder().decode(SegmentationScores.Summary.self, from: data) == scores.summary)
    }

    @Test("bad class lists and an empty matrix throw")
    func errors() throws {
        let matrix = ConfusionMatrix(classCount: 3)
        #expect(throws: EvaluationError.classCountMismatch(expected: 3, got: 2)) {
            try SegmentationScores(matrix: matrix, classNames: ["background", "cat"])
        }
        #expect(throws: EvaluationError.duplicateClassName("cat")) {
            try SegmentationScores(matrix: matrix, classNames: ["background", "cat", "cat"])
        }
        #expect(throws: EvaluationError.nothingEvaluated) {
            try SegmentationScores(matrix: matrix, classNames: ["background", "cat", "dog"])
        }
    }
}
