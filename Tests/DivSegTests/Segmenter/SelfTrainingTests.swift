import DivSeg
import DivSegCore
import Foundation
import Testing

@Suite("Self-training: labels restricted to each image's tags")
struct SelfTrainingTests {
    @Test("each row takes the best of its image's allowed labels, even where another class scores higher")
    func restriction() throws {
        // 4 classes (background, 1, 2, 3); rows 0–1 from image 0 (tagged 2), rows 2–3 from
        // image 1 (tagged 1 and 3, exhaustive: no background).
        let logits: [Float] = [
            0, 9, 1, 5,     // unrestricted argmax 1; image 0 allows {0, 2} → 2
            3, 9, 1, 5,     // → 0 (background beats 2)
            8, 1, 2, 0,     // unrestricted 0; image 1 allows {1, 3} → 1
            8, 1, 2, 4,     // → 3
        ]
        let labels = try SelfTraining.restrictedLabels(logits: logits, classCount: 4, groups: [0, 0, 1, 1],
                                                       allowed: [[0, 2], [3, 1]])
        #expect(labels == [2, 0, 1, 3])
    }

    @Test("ties go to the lowest allowed label, and a single allowed label is always taken")
    func ties() throws {
        let labels = try SelfTraining.restrictedLabels(logits: [0, 2, 2, 7, 7, 1], classCount: 3, groups: [0, 1],
                                                       allowed: [[2, 1], [2]])
        #expect(labels == [1, 2])
    }

    @Test("sizes, groups and labels that do not fit are typed errors")
    func refusals() {
        #expect(throws: SegmenterError.self) {
            try SelfTraining.restrictedLabels(logits: [0, 1, 2], classCount: 2, groups: [0], allowed: [[0]])
        }
        #expect(throws: SegmenterError.labelOutOfRange(label: 2, classCount: 2)) {
            try SelfTraining.restrictedLabels(logits: [0, 1], classCount: 2, groups: [0], allowed: [[0, 2]])
        }
        #expect(throws: SegmenterError.self) {
            try SelfTraining.restrictedLabels(logits: [0, 1], classCount: 2, groups: [0], allowed: [[]])
        }
        #expect(throws: SegmenterError.self) {
            try SelfTraining.restrictedLabels(logits: [0, 1], classCount: 2, groups: [1], allowed: [[0]])
        }
    }

    @Test("rounds are checked against their range; 0 is the default")
    func rounds() throws {
        #expect(SelfTraining().rounds == 0)
        try SelfTraining(rounds: SelfTraining.roundsRange.upperBound).validate()
        #expect(throws: SegmenterError.self) { try SelfTraining(rounds: SelfTraining.roundsRange.upperBound + 1).validate() }
        #expect(throws: SegmenterError.self) { try SelfTraining(rounds: -1).validate() }
        #expect(SelfTraining().folds == 1)
        #expect(throws: SegmenterError.self) { try SelfTraining(rounds: 1, folds: 0).validate() }
        #expect(throws: SegmenterError.self) { try SelfTraining(rounds: 1, folds: SelfTraining.foldsRange.upperBound + 1).validate() }
    }

    @Test("a record written before folds existed decodes with one fold")
    func olderRecord() throws {
        let decoded = try JSONDecoder().decode(SelfTraining.self, from: Data(#"{"rounds": 2}"#.utf8))
        #expect(decoded == SelfTraining(rounds: 2, folds: 1))
        let again = try JSONDecoder().decode(SelfTraining.self, from: JSONEncoder().encode(SelfTraining(rounds: 1, folds: 3)))
        #expect(again == SelfTraining(rounds: 1, folds: 3))
    }
}
