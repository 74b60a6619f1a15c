import CDivSegShims
import Testing

@Suite("float16 conversion: the F16C path equals the portable one bit for bit")
struct Float16ConversionTests {
    @Test("every 61st float32 bit pattern (70 M values: normals, subnormals, infinities, NaNs) narrows identically")
    func narrowing() {
        let chunk = 1 << 20
        var input = [Float](repeating: 0, count: chunk)
        var fast = [UInt16](repeating: 0, count: chunk), portable = fast
        var pattern: UInt64 = 0, mismatches = 0, checked = 0
        while pattern <= UInt64(UInt32.max) {
            var n = 0
            // Odd count per chunk so the vector loop's scalar tail is exercised too.
            while n < chunk - 3 && pattern <= UInt64(UInt32.max) {
                input[n] = Float(bitPattern: UInt32(pattern)); n += 1; pattern += 61
            }
            ds_f32_to_f16_array(input, &fast, UInt64(n))
            ds_f32_to_f16_array_portable(input, &portable, UInt64(n))
            for i in 0..<n where fast[i] != portable[i] {
                mismatches += 1
                if mismatches < 5 { Issue.record("\(input[i].bitPattern): \(fast[i]) vs \(portable[i])") }
            }
            // Both agree with Swift's own conversion on non-NaN values.
            for i in stride(from: 0, to: n, by: 997) where !input[i].isNaN {
                #expect(portable[i] == Float16(input[i]).bitPattern, "\(input[i])")
            }
            checked += n
        }
        #expect(mismatches == 0)
        #expect(checked > 70_000_000)
    }

    @Test("all 65536 float16 patterns widen exactly, with odd lengths")
    func widening() {
        let halves = (0...UInt16.max).map { $0 }
        for count in [65536, 65533, 7] {
            var out = [Float](repeating: 0, count: count)
            ds_f16_to_f32_array(halves, &out, UInt64(count))
            for i in 0..<count {
                let expected = Float(Float16(bitPattern: halves[i]))
                #expect(out[i].bitPattern == expected.bitPattern || (out[i].isNaN && expected.isNaN), "\(i)")
            }
        }
    }
}
