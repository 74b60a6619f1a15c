import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import Testing

@Suite("EvaluationPart: shard matrices and their merge")
struct EvaluationPartTests {
    let classes = ["background", "cat", "dog"]
    let run = ["dataset": "coco:x", "split": "val"]

    /// A matrix of random 5×4 label maps (labels 0…2, some 255 in the truth).
    private func matrix(seed: UInt64, images: Int) throws -> (ConfusionMatrix, [(LabelMap, LabelMap)]) {
        var random = EvaluationTestRandom(state: seed)
        var matrix = ConfusionMatrix(classCount: 3)
        var pairs: [(LabelMap, LabelMap)] = []
        for _ in 0..<images {
            let truth = LabelMap(width: 5, height: 4, labels: (0..<20).map { _ in
                let r = random.next() % 7
                return r == 6 ? 255 : UInt8(r % 3)
            })
            let prediction = LabelMap(width: 5, height: 4, labels: (0..<20).map { _ in UInt8(random.next() % 3) })
            try matrix.add(groundTruth: truth, prediction: prediction)
            pairs.append((truth, prediction))
        }
        return (matrix, pairs)
    }

    @Test("merging the parts of round-robin shards gives the one-process matrix and scores")
    func mergeEqualsWhole() throws {
        let (_, pairs) = try matrix(seed: 7, images: 11)
        var whole = ConfusionMatrix(classCount: 3)
        for (truth, prediction) in pairs { try whole.add(groundTruth: truth, prediction: prediction) }
        let count = 3
        var parts: [(path: String, part: EvaluationPart)] = []
        for index in [3, 1, 2] {   // any order
            let shard = try Shard(index: index, count: count)
            var part = ConfusionMatrix(classCount: 3)
            for (truth, prediction) in shard.select(pairs) { try part.add(groundTruth: truth, prediction: prediction) }
            parts.append(("part-\(index).json", EvaluationPart(shard: shard, run: run, images: shard.select(pairs).count,
                                                               classes: classes, matrix: part)))
        }
        let merged = try EvaluationPart.merge(parts)
        #expect(merged.matrix == whole)
        #expect(merged.images == 11 && merged.shard == .whole)
        #expect(try SegmentationScores(matrix: merged.matrix, classNames: classes).jsonData()
                == SegmentationScores(matrix: whole, classNames: classes).jsonData())
    }

    @Test("a part survives its JSON file, and a file that is no part is refused by name")
    func fileRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-part-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (m, _) = try matrix(seed: 3, images: 2)
        let part = EvaluationPart(shard: try Shard(parsing: "2/5"), run: run, images: 2, classes: classes, matrix: m)
        #expect(part.scores != nil)
        let path = dir.path + "/part.json"
        try part.jsonData().write(to: URL(fileURLWithPath: path))
        #expect(try EvaluationPart.read(from: path) == part)
        let scoresOnly = dir.path + "/scores.json"
        try SegmentationScores(matrix: m, classNames: classes).jsonData().write(to: URL(fileURLWithPath: scoresOnly))
        for (bad, fragment) in [(scoresOnly, "not an evaluation part"), (dir.path + "/absent.json", "absent.json")] {
            do {
                _ = try EvaluationPart.read(from: bad)
                Issue.record("\(bad) must be refused")
            } catch {
                #expect(error.description.contains(bad) && error.description.contains(fragment), "\(error)")
            }
        }
    }

    @Test("missing, duplicate and foreign parts are refused naming the files and shards")
    func refusals() throws {
        let (m, _) = try matrix(seed: 5, images: 1)
        func part(_ text: String, run: [String: String]? = nil, classes: [String]? = nil) throws -> EvaluationPart {
            EvaluationPart(shard: try Shard(parsing: text), run: run ?? self.run, images: 1, classes: classes ?? self.classes, matrix: m)
        }
        let cases: [([(path: String, part: EvaluationPart)], EvaluationPartError)] = [
            ([], .noParts),
            ([("a", try part("1/3")), ("c", try part("3/3"))], .missingShards([2], count: 3)),
            ([("a", try part("1/2")), ("b", try part("1/2"))], .duplicateShard(try Shard(parsing: "1/2"), path: "b", otherPath: "a")),
            ([("a", try part("1/2")), ("b", try part("2/3"))], .mismatch(path: "b", what: "shard count", value: "3", otherPath: "a", otherValue: "2")),
            ([("a", try part("1/2")), ("b", try part("2/2", run: ["dataset": "coco:x", "split": "train"]))],
             .mismatch(path: "b", what: "split", value: "train", otherPath: "a", otherValue: "val")),
            ([("a", try part("1/2")), ("b", try part("2/2", classes: ["background", "cat", "cow"]))],
             .mismatch(path: "b", what: "classes", value: "background,cat,cow", otherPath: "a", otherValue: "background,cat,dog")),
        ]
        for (parts, expected) in cases {
            #expect(throws: expected) { try EvaluationPart.merge(parts) }
        }
        #expect(EvaluationPartError.missingShards([2], count: 3).description.contains("2/3 is missing"))
    }
}
