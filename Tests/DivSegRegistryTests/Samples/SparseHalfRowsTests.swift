import DivSegCore
import DivSegRegistry
import Testing

@Suite("SparseHalfRows: the sample store's lossless compact rows")
struct SparseHalfRowsTests {
    @Test("rows decode to the same numbers bit for bit (zeros, −0, subnormals, the largest half), any length")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 3)
        for count in [0, 1, 21, 22, 23, 4224, 4224 * 3 + 5] {
            var values = (0..<count).map { i -> Float in
                switch i % 7 {
                case 0, 1, 2: return 0
                case 3: return Float(Float16(rng.nextGaussian() * 100))
                case 4: return -0.0
                case 5: return Float(Float16(bitPattern: 1))   // smallest subnormal
                default: return Float(Float16(Float(rng.next() % 60000)))
                }
            }
            if count > 0 { values[count - 1] = 65504 }
            let packed = SparseHalfRows.encode(values)
            let decoded = try SparseHalfRows.decode(mask: packed.mask, values: packed.values, count: count)
            #expect(decoded.map(\.bitPattern) == values.map(\.bitPattern), "count \(count)")
            #expect(packed.mask.allSatisfy(\.isFinite) && packed.values.allSatisfy(\.isFinite))
        }
        // Mostly zeros, as post-ReLU rows: far smaller than two bytes a value.
        let sparse = (0..<4224).map { $0 % 3 == 0 ? Float(1.5) : 0 }
        let packed = SparseHalfRows.encode(sparse)
        #expect((packed.mask.count + packed.values.count) * 4 < 4224 * 2 * 6 / 10)
    }

    @Test("arrays that do not fit together are refused, never trapped on")
    func damaged() {
        let packed = SparseHalfRows.encode([1, 0, 2, 0, 3])
        #expect(throws: SparseHalfRows.DecodeError.self) {
            try SparseHalfRows.decode(mask: packed.mask, values: packed.values, count: 40)
        }
        #expect(throws: SparseHalfRows.DecodeError.self) {
            try SparseHalfRows.decode(mask: packed.mask, values: Array(packed.values.dropLast()), count: 5)
        }
        #expect(throws: SparseHalfRows.DecodeError.self) {
            try SparseHalfRows.decode(mask: [Float.nan], values: packed.values, count: 5)
        }
        #expect(throws: SparseHalfRows.DecodeError.self) {
            try SparseHalfRows.decode(mask: [Float(bitPattern: 0x3F80_0000 | 0xFF)], values: packed.values, count: 5)
        }
    }
}
