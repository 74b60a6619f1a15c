import DivSeg
import DivSegCore
import Testing

@Suite("Prediction rules: background bias, small classes removed, tags")
struct PredictionAdjustmentTests {
    /// 3 channels on a 1 × 10 grid: background wins 0–5 by 1, class 1 wins 6–8 by 2, class 2
    /// wins location 9 by 3 (one tenth of the grid).
    static func logits() -> Tensor {
        var v = [Float](repeating: 0, count: 30)
        for i in 0..<6 { v[i] = 1 }
        for i in 6..<9 { v[10 + i] = 2 }
        v[20 + 9] = 3
        return Tensor(shape: [3, 1, 10], scalars: v)
    }

    static func argmax(_ t: Tensor) -> [Int] {
        (0..<10).map { i in (0..<3).max { t.scalars[$0 * 10 + i] < t.scalars[$1 * 10 + i] }! }
    }

    @Test("no rules and no tags: the logits unchanged")
    func identity() {
        #expect(PredictionAdjustment.none.apply(to: Self.logits()) == Self.logits())
    }

    @Test("a negative background bias hands background locations to the next best class")
    func bias() {
        #expect(Self.argmax(Self.logits()) == [0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
        let adjusted = PredictionAdjustment(backgroundBias: -1.5).apply(to: Self.logits())
        // Background 1 − 1.5 = −0.5 loses to the zero logits of the other channels (first wins ties).
        #expect(Self.argmax(adjusted) == [1, 1, 1, 1, 1, 1, 1, 1, 1, 2])
        #expect(adjusted.scalars[10...] == Self.logits().scalars[10...])
    }

    @Test("a class under the minimum area loses every location; one at or above it keeps them")
    func area() {
        let removed = PredictionAdjustment(minimumClassArea: 0.2).apply(to: Self.logits())
        // Location 9 goes to the next best channel: background and class 1 tie at 0, the first wins.
        #expect(Self.argmax(removed) == [0, 0, 0, 0, 0, 0, 1, 1, 1, 0])
        #expect(removed.scalars[20..<30].allSatisfy { $0 < -1000 })
        let kept = PredictionAdjustment(minimumClassArea: 0.1).apply(to: Self.logits())
        #expect(Self.argmax(kept) == [0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
    }

    @Test("tags: an untagged class never wins, background always may")
    func tags() throws {
        let allowed = try PredictionAdjustment.allowedChannels(tags: ["cat"], channelNames: ["background", "dog", "cat"])
        #expect(allowed == [true, false, true])
        let adjusted = PredictionAdjustment.none.apply(to: Self.logits(), allowedChannels: allowed)
        #expect(Self.argmax(adjusted) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 2])
        #expect(throws: PredictionAdjustmentError.unknownTag("cow", known: ["dog", "cat"])) {
            try PredictionAdjustment.allowedChannels(tags: ["cow"], channelNames: ["background", "dog", "cat"])
        }
        // "background" is not a tag: a user passing it gets told which names there are.
        #expect(throws: PredictionAdjustmentError.self) {
            try PredictionAdjustment.allowedChannels(tags: ["background"], channelNames: ["background", "dog", "cat"])
        }
    }

    @Test("rules out of range are refused with the value and the range")
    func validation() {
        #expect(throws: PredictionAdjustmentError.self) { try PredictionAdjustment(backgroundBias: .nan).validate() }
        #expect(throws: PredictionAdjustmentError.self) { try PredictionAdjustment(minimumClassArea: 1.5).validate() }
        #expect(throws: PredictionAdjustmentError.self) { try PredictionAdjustment(minimumClassArea: -0.1).validate() }
        #expect(throws: Never.self) { try PredictionAdjustment.untagged.validate() }
        #expect(throws: Never.self) { try PredictionAdjustment.tagged.validate() }
        let message = "\(PredictionAdjustmentError.invalidParameter("minimum class area 1.5 is outside 0.0...1.0"))"
        #expect(message.contains("1.5") && message.contains("0.0...1.0"))
    }
}
