import DivSegIO
import Foundation
import Testing

@Suite("HDF5: float16 reads")
struct HDF5HalfPrecisionTests {
    @Test("every finite half value survives a float16 write and read exactly, and a bundle-sized array reads back")
    func allHalfValues() throws {
        // All finite binary16 values (subnormals and signed zeros included), widened exactly.
        var values: [Float] = []
        for bits in 0...UInt16.max where (bits >> 10) & 0x1F != 0x1F {
            values.append(Float(Float16(bitPattern: bits)))
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-half-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("h.h5").path
        try HDF5File.writeAtomically(to: path) { try $0.writeFloats("v", values, shape: [values.count], storage: .float16) }
        let file = try HDF5File.open(path)
        defer { file.close() }
        let read = try file.readFloats("v").values
        #expect(read.count == values.count)
        let mismatches = zip(read, values).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(mismatches == 0)

        // A bundle-sized array (4.3 M values). Its read time (HDF5's own conversion took
        // 0.3 s) is reported, not asserted: a limit would test the machine and its load.
        let big = [Float](repeating: 0.5, count: 1024 * 4224)
        try HDF5File.writeAtomically(to: path) { try $0.writeFloats("w", big, shape: [1024, 4224], storage: .float16) }
        let again = try HDF5File.open(path)
        defer { again.close() }
        let start = Date()
        let w = try again.readFloats("w")
        let seconds = Date().timeIntervalSince(start)
        #expect(w.values == big)
        print(String(format: "float16 read of 4.3 M values: %.3f s", seconds))
    }

    @Test("a finite value beyond float16's range is refused, naming the dataset; infinities given stay allowed")
    func outOfRange() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-half-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("h.h5").path
        #expect {
            try HDF5File.writeAtomically(to: path) { try $0.writeFloats("big", [1, 70_000, 2], shape: [3], storage: .float16) }
        } throws: { "\($0)".contains("float16's range") && "\($0)".contains("big") }
        #expect(!FileManager.default.fileExists(atPath: path), "nothing is left behind")
        // 65519 still rounds to the largest finite half; an infinity given stays one.
        try HDF5File.writeAtomically(to: path) {
            try $0.writeFloats("edge", [65519, -.infinity], shape: [2], storage: .float16)
        }
        let file = try HDF5File.open(path)
        defer { file.close() }
        #expect(try file.readFloats("edge").values == [65504, -.infinity])
    }
}
