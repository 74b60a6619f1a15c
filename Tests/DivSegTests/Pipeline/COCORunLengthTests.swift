import DivSeg
import DivSegIO
import Testing

@Suite("COCORunLength: pycocotools' compressed RLE")
struct COCORunLengthTests {
    /// pycocotools' `rleFrString`, ported independently of the encoder under test.
    static func decode(_ counts: String) -> [Int] {
        let s = Array(counts.utf8)
        var runs: [Int] = []
        var p = 0
        while p < s.count {
            var x = 0, k = 0, more = true, c = 0
            while more {
                c = Int(s[p]) - 48
                x |= (c & 0x1f) << (5 * k)
                more = c & 0x20 != 0
                p += 1
                k += 1
                if !more && c & 0x10 != 0 { x |= -1 << (5 * k) }
            }
            if runs.count > 2 { x += runs[runs.count - 2] }
            runs.append(x)
        }
        return runs
    }

    @Test("runs are column-major and start with zeros")
    func runs() {
        // 2 × 3, column-major: column 0 = (0, 1), column 1 = (1, 1), column 2 = (0, 0).
        let mask = LabelMap(width: 3, height: 2, labels: [0, 1, 0,
                                                          1, 1, 0])
        #expect(COCORunLength.runs(mask) == [1, 3, 2])
        let ones = LabelMap(width: 2, height: 2, labels: [1, 1, 1, 1])
        #expect(COCORunLength.runs(ones) == [0, 4])
        #expect(COCORunLength.encode(ones).size == [2, 2])
    }

    @Test("compressed strings, hand-computed from maskApi.c")
    func compressed() {
        #expect(COCORunLength.compress([4]) == "4")
        #expect(COCORunLength.compress([1, 2, 1]) == "121")
        // From the fourth run on, the difference to the run two before: 2 − 20 = −18 → "^O".
        #expect(COCORunLength.compress([10, 20, 5, 2]) == ":d05^O")
        // 100 = 0b11_00100: low group 4 with "more", then 3.
        #expect(COCORunLength.compress([100]) == "T3")
    }

    @Test("random masks survive encode → decode")
    func roundTrip() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let width = Int.random(in: 1...40, using: &rng), height = Int.random(in: 1...40, using: &rng)
            let density = Double.random(in: 0...1, using: &rng)
            let labels = (0..<(width * height)).map { _ in UInt8(Double.random(in: 0...1, using: &rng) < density ? 1 : 0) }
            let mask = LabelMap(width: width, height: height, labels: labels)
            let runs = COCORunLength.runs(mask)
            #expect(Self.decode(COCORunLength.compress(runs)) == runs)
            #expect(runs.reduce(0, +) == width * height)
        }
    }
}
