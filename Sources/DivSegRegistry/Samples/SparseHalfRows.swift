/// The sample store's lossless compact form of half-precision rows (`encoding =
/// "float16-sparse"`): a presence mask of the values that are not +0 and the other values'
/// binary16 bits. Hypercolumn rows are post-ReLU maps, ≈62 % exact zeros at the dense
/// points, so an image's 336 rows take ≈1.3 MB instead of 2.8 MB — and decode to the
/// same numbers bit for bit, so segmenters trained from the store do not change.
///
/// Both arrays are kept in float32 datasets (the only element type of ``HDF5File``):
/// - `mask`: 22 presence bits per element, in the mantissa of a number in [1, 2)
///   (`0x3F80_0000 | bits`), so every stored element is an ordinary finite float;
/// - `values`: the present values' binary16 bits, two per element (low half first), as the
///   feature cache's `float16-pairs`.
///
/// ```swift
/// let packed = SparseHalfRows.encode(picks.rows)        // rows must be exact in float16
/// let rows = try SparseHalfRows.decode(mask: packed.mask, values: packed.values, count: picks.rows.count)
/// ```
public enum SparseHalfRows {
    /// Presence bits per mask element.
    public static let bitsPerElement = 22
    /// The encoding attribute's value.
    public static let encodingName = "float16-sparse"

    /// Why stored arrays do not decode.
    public struct DecodeError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Packs `values` (each exact in binary16, as ``SamplePicks`` rounds them).
    public static func encode(_ values: [Float]) -> (mask: [Float], values: [Float]) {
        let maskCount = (values.count + bitsPerElement - 1) / bitsPerElement
        var words = [UInt32](repeating: 0, count: maskCount)
        var present: [UInt16] = []
        present.reserveCapacity(values.count / 2)
        for (i, value) in values.enumerated() {
            let bits = Float16(value).bitPattern
            if bits != 0 {
                words[i / bitsPerElement] |= 1 << UInt32(i % bitsPerElement)
                present.append(bits)
            }
        }
        if present.count % 2 == 1 { present.append(0) }
        let mask = words.map { Float(bitPattern: 0x3F80_0000 | $0) }
        let packed = stride(from: 0, to: present.count, by: 2).map {
            Float(bitPattern: UInt32(present[$0]) | UInt32(present[$0 + 1]) << 16)
        }
        return (mask, packed)
    }

    /// Unpacks `count` values.
    ///
    /// - Throws: ``DecodeError`` when the arrays do not fit together (a damaged entry).
    public static func decode(mask: [Float], values: [Float], count: Int) throws(DecodeError) -> [Float] {
        guard mask.count == (count + bitsPerElement - 1) / bitsPerElement else {
            throw DecodeError(description: "a mask of \(mask.count) elements for \(count) values")
        }
        var words: [UInt32] = []
        words.reserveCapacity(mask.count)
        var present = 0
        for element in mask {
            let bits = element.bitPattern
            guard bits & 0xFFC0_0000 == 0x3F80_0000 else { throw DecodeError(description: "a malformed mask element") }
            let word = bits & 0x3F_FFFF
            words.append(word)
            present += word.nonzeroBitCount
        }
        guard values.count == (present + 1) / 2 else {
            throw DecodeError(description: "\(values.count) value elements for \(present) values")
        }
        var out = [Float](repeating: 0, count: count)
        var next = 0
        values.withUnsafeBufferPointer { v in
            for i in 0..<count where words[i / bitsPerElement] & (1 << UInt32(i % bitsPerElement)) != 0 {
                let pair = v[next / 2].bitPattern
                let half = next % 2 == 0 ? UInt16(truncatingIfNeeded: pair) : UInt16(truncatingIfNeeded: pair >> 16)
                out[i] = Float(Float16(bitPattern: half))
                next += 1
            }
        }
        guard next == present else { throw DecodeError(description: "a mask bit beyond the last value") }
        return out
    }
}
