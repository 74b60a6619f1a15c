import DivSeg
import DivSegIO
import Foundation
import Testing

/// The tiny 3×4 example used by the matrix and score tests (classes 0 background, 1 cat,
/// 2 dog; 255 = ignore):
///
///     ground truth        prediction
///     0   0   1   1       0   1   1   1
///     0 255   1   2       0   0   1   2
///   255   2   2   2       2   2   0   2
enum TinyExample {
    static let groundTruth = LabelMap(width: 4, height: 3, labels: [
        0, 0, 1, 1,
        0, 255, 1, 2,
        255, 2, 2, 2,
    ])
    static let prediction = LabelMap(width: 4, height: 3, labels: [
        0, 1, 1, 1,
        0, 0, 1, 2,
        2, 2, 0, 2,
    ])
}

/// Deterministic pseudo-random bytes/floats for tests (a 64-bit LCG).
struct EvaluationTestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
    mutating func label(below n: Int) -> UInt8 { UInt8(Int(next()) % n) }
    mutating func unit() -> Float { Float(next() & 0xFFFFFF) / Float(0x1000000) }
}

@Suite("Evaluation: confusion matrix")
struct EvaluationConfusionMatrixTests {
    @Test("hand-computed counts of the 3×4 example with ignore pixels")
    func handComputed() throws {
        var matrix = ConfusionMatrix(classCount: 3)
        try matrix.add(groundTruth: TinyExample.groundTruth, prediction: TinyExample.prediction)
        // Pairs (truth, prediction), the two 255 pixels left out:
        //   row 0: (0,0) (0,1) (1,1) (1,1)
        //   row 1: (0,0)   —   (1,1) (2,2)
        //   row 2:   —   (2,2) (2,0) (2,2)
        // truth 0 → predicted 0: 2, 1: 1, 2: 0
        // truth 1 → predicted 0: 0, 1: 3, 2: 0
        // truth 2 → predicted 0: 1, 1: 0, 2: 3
        #expect(matrix.counts == [2, 1, 0,
                                  0, 3, 0,
                                  1, 0, 3])
        #expect(matrix.ignoredPixels == 2)
        #expect(matrix.countedPixels == 10)
        #expect(matrix[groundTruth: 2, prediction: 0] == 1)
        #expect(matrix.truePositives(of: 1) == 3)
        #expect(matrix.groundTruthPixels(of: 2) == 4)
        #expect(matrix.predictedPixels(of: 1) == 4)
        #expect(matrix.predictedPixels(of: 0) == 3)
    }

    @Test("merging two matrices equals adding both pairs to one")
    func mergeEqualsAddingBoth() throws {
        var random = EvaluationTestRandom(state: 7)
        func pair(_ w: Int, _ h: Int) -> (LabelMap, LabelMap) {
            let truth = (0..<(w * h)).map { _ -> UInt8 in
                let l = random.label(below: 6)
                return l == 5 ? 255 : l
            }
            let prediction = (0..<(w * h)).map { _ in random.label(below: 5) }
            return (LabelMap(width: w, height: h, labels: truth), LabelMap(width: w, height: h, labels: prediction))
        }
        let (a1, a2) = pair(37, 23)
        let (b1, b2) = pair(11, 50)
        var first = ConfusionMatrix(classCount: 5)
        try first.add(groundTruth: a1, prediction: a2)
        var second = ConfusionMatrix(classCount: 5)
        try second.add(groundTruth: b1, prediction: b2)
        var both = ConfusionMatrix(classCount: 5)
        try both.add(groundTruth: a1, prediction: a2)
        try both.add(groundTruth: b1, prediction: b2)

        #expect(try first.merging(second) == both)
        try first.merge(second)
        #expect(first == both)
        #expect(both.countedPixels + both.ignoredPixels == Int64(37 * 23 + 11 * 50))

        // Cross-check against a plain loop.
        var reference = [Int64](repeating: 0, count: 25)
        for (t, p) in zip(a1.labels + b1.labels, a2.labels + b2.labels) where t != 255 {
            reference[Int(t) * 5 + Int(p)] += 1
        }
        #expect(both.counts == reference)
    }

    @Test("merging matrices of different class counts throws")
    func mergeMismatch() {
        var a = ConfusionMatrix(classCount: 3)
        #expect(throws: EvaluationError.classCountMismatch(expected: 3, got: 4)) {
            try a.merge(ConfusionMatrix(classCount: 4))
        }
    }

    @Test("size mismatch throws a typed error and leaves the matrix unchanged")
    func sizeMismatch() throws {
        var matrix = ConfusionMatrix(classCount: 3)
        try matrix.add(groundTruth: TinyExample.groundTruth, prediction: TinyExample.prediction)
        let before = matrix
        let transposed = LabelMap(width: 3, height: 4, labels: TinyExample.prediction.labels)
        #expect(throws: EvaluationError.sizeMismatch(groundTruthWidth: 4, groundTruthHeight: 3,
                                                     predictionWidth: 3, predictionHeight: 4)) {
            try matrix.add(groundTruth: TinyExample.groundTruth, prediction: transposed)
        }
        #expect(matrix == before)
    }

    @Test("labels outside the class range throw and leave the matrix unchanged")
    func labelsOutOfRange() throws {
        var matrix = ConfusionMatrix(classCount: 3)
        var prediction = TinyExample.prediction
        prediction.labels[5] = 3        // on an ignored pixel: still an error
        #expect(throws: EvaluationError.predictionLabelOutOfRange(label: 3, pixels: 1, classCount: 3)) {
            try matrix.add(groundTruth: TinyExample.groundTruth, prediction: prediction)
        }
        prediction = TinyExample.prediction
        prediction.labels[0] = 255
        prediction.labels[1] = 255
        #expect(throws: EvaluationError.predictionLabelOutOfRange(label: 255, pixels: 2, classCount: 3)) {
            try matrix.add(groundTruth: TinyExample.groundTruth, prediction: prediction)
        }
        var truth = TinyExample.groundTruth
        truth.labels[11] = 7
        #expect(throws: EvaluationError.groundTruthLabelOutOfRange(label: 7, pixels: 1, classCount: 3)) {
            try matrix.add(groundTruth: truth, prediction: TinyExample.prediction)
        }
        #expect(matrix == ConfusionMatrix(classCount: 3))
        #expect(EvaluationError.groundTruthLabelOutOfRange(label: 7, pixels: 1, classCount: 3)
            .description.contains("255 = ignore"))
    }

    @Test("Codable round trip, and corrupt JSON is refused")
    func codable() throws {
        var matrix = ConfusionMatrix(classCount: 3)
        try matrix.add(groundTruth: TinyExample.groundTruth, prediction: TinyExample.prediction)
        let data = try JSONEncoder().encode(matrix)
        #expect(try JSONDecoder().decode(ConfusionMatrix.self, from: data) == matrix)
        let bad = Data(#"{"classCount": 3, "counts": [1, 2], "ignoredPixels": 0}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ConfusionMatrix.self, from: bad) }
    }

    /// The time is reported, not asserted (a limit would test the machine and its load);
    /// the fast counting path is checked cell by cell against a plain count.
    @Test("a 640×480 pair is counted exactly (and its time reported)")
    func speed() throws {
        var random = EvaluationTestRandom(state: 42)
        let n = 640 * 480
        // Blocky labels like real masks, plus ignore pixels.
        let truth = (0..<n).map { i -> UInt8 in
            let block: Int = (i / 640 / 40 + i % 640 / 50) % 7
            return block == 6 ? 255 : UInt8(block)
        }
        let prediction = (0..<n).map { _ in random.label(below: 21) }
        let a = LabelMap(width: 640, height: 480, labels: truth)
        let b = LabelMap(width: 640, height: 480, labels: prediction)
        var matrix = ConfusionMatrix(classCount: 21)
        try matrix.add(groundTruth: a, prediction: b)   // warm-up
        let clock = ContinuousClock()
        let rounds = 20
        let elapsed = try clock.measure {
            for _ in 0..<rounds { try matrix.add(groundTruth: a, prediction: b) }
        }
        let perPair = elapsed / rounds
        print("ConfusionMatrix.add 640×480: \(perPair)")
        #expect(matrix.countedPixels + matrix.ignoredPixels == Int64(n * (rounds + 1)))
        var plain = [Int64](repeating: 0, count: 21 * 21), ignored: Int64 = 0
        for (t, p) in zip(truth, prediction) {
            if t == 255 { ignored += 1 } else { plain[Int(t) * 21 + Int(p)] += 1 }
        }
        #expect(matrix.ignoredPixels == ignored * Int64(rounds + 1))
        #expect((0..<21).allSatisfy { g in
            (0..<21).allSatisfy { p in matrix[groundTruth: g, prediction: p] == plain[g * 21 + p] * Int64(rounds + 1) }
        })
    }
}
