import DivSegIO
import Foundation
import Testing

/// Write, close, reopen, compare.
@Suite("HDF5: write and read back")
struct HDF5RoundTripTests {
    @Test("float32 round trip is exact", arguments: [[], [1], [7], [3, 4], [2, 3, 4], [2, 1, 3, 2], [0], [4, 0]])
    func float32(shape: [Int]) throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("f32.h5")
            let values = HDF5Fixtures.values(shape.reduce(1, *))
            let out = try HDF5File.create(path)
            try out.writeFloats("a/b/c/data", values, shape: shape)
            out.close()

            let file = try HDF5File.open(path)
            let read = try file.readFloats("a/b/c/data")
            #expect(read.shape == shape)
            #expect(read.values == values)
            #expect(try file.shape(of: "/a/b/c/data") == shape)
            #expect(try file.childNames(of: "a/b") == ["c"])
        }
    }

    @Test("several datasets in nested groups; special values survive")
    func nestedGroups() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("nested.h5")
            let special: [Float] = [0, -0.0, .infinity, -.infinity, .greatestFiniteMagnitude,
                                    .leastNonzeroMagnitude, -1e-30, 3.25]
            let out = try HDF5File.create(path)
            try out.writeFloats("top", [1, 2, 3], shape: [3])
            try out.writeFloats("g1/x", special, shape: [2, 4])
            try out.writeFloats("g1/g2/y", [5], shape: [1, 1, 1])
            try out.writeFloats("g1/g2/g3/z", HDF5Fixtures.values(60), shape: [3, 4, 5])
            try out.writeFloats("g1/nan", [.nan], shape: [])
            #expect(try out.childNames() == ["g1", "top"])
            #expect(try out.childNames(of: "g1") == ["g2", "nan", "x"])
            out.close()

            let file = try HDF5File.open(path)
            #expect(try file.readFloats("g1/x").values.map(\.bitPattern) == special.map(\.bitPattern))
            #expect(try file.readFloats("g1/g2/y").shape == [1, 1, 1])
            #expect(try file.readFloats("g1/g2/g3/z").values == HDF5Fixtures.values(60))
            let nan = try file.readFloats("g1/nan")
            #expect(nan.shape == [] && nan.values.count == 1 && nan.values[0].isNaN)
        }
    }

    @Test("writing an existing dataset replaces values and shape")
    func replaceDataset() throws {
        try HDF5TemporaryDirectory.with { dir in
            let file = try HDF5File.create(dir.file("replace.h5"))
            try file.writeFloats("w", [1, 2, 3, 4], shape: [2, 2])
            try file.writeFloats("w", [9, 8, 7], shape: [3], storage: .float16, compressed: true)
            let read = try file.readFloats("w")
            #expect(read.shape == [3] && read.values == [9, 8, 7])
            // Reading works on a file still open for writing.
            #expect(try file.childNames() == ["w"])
        }
    }

    @Test("float16: values within half precision, about half the bytes on disk")
    func float16() throws {
        try HDF5TemporaryDirectory.with { dir in
            let count = 200_000
            let values = HDF5Fixtures.values(count)
            let full = try HDF5File.create(dir.file("f32.h5"))
            try full.writeFloats("v", values, shape: [count / 100, 100])
            full.close()
            let half = try HDF5File.create(dir.file("f16.h5"))
            try half.writeFloats("v", values, shape: [count / 100, 100], storage: .float16)
            let exact: [Float] = [0, 1, -2, 0.5, 1024, 65504, -0.000061035156]
            try half.writeFloats("exact", exact, shape: [exact.count], storage: .float16)
            // Beyond ±65504 a finite value is refused (HDF5HalfPrecisionTests.outOfRange); 65519 still rounds
            // down to the largest half, and infinities given stay infinities.
            try half.writeFloats("overflow", [65519, .infinity, -.infinity], shape: [3], storage: .float16)
            #expect(throws: HDF5Error.self) {
                try half.writeFloats("beyond", [1e6, 65520], shape: [2], storage: .float16)
            }
            // Rounding that carries into the exponent (HDF5 1.10's own conversion halves these).
            let carries: [Float] = [0x1.ffe5c8p-14, 0x1.fff0p0, -0x1.fff8p10, 0x1.ffcp-15]
            try half.writeFloats("carry", carries, shape: [4], storage: .float16)
            half.close()

            let read = try HDF5File.open(dir.file("f16.h5"))
            let back = try read.readFloats("v")
            #expect(back.shape == [count / 100, 100])
            var worst = 0.0
            for (a, b) in zip(values.map(Double.init), back.values.map(Double.init)) {
                // Round to nearest: relative error ≤ 2^-11 for normal halves (|x| ≥ 2^-14),
                // absolute error ≤ 2^-25 below.
                worst = max(worst, abs(a - b) / max(abs(a), 0x1p-14))
            }
            #expect(worst <= 0x1p-11)
            #expect(back.values != values)  // it really was stored as half
            #expect(try read.readFloats("exact").values == exact)
            #expect(try read.readFloats("overflow").values == [65504, .infinity, -.infinity])
            #expect(try read.readFloats("carry").values == [0x1p-13, 2, -2048, 0x1p-14])

            let ratio = Double(try HDF5Fixtures.fileSize(dir.file("f16.h5")))
                / Double(try HDF5Fixtures.fileSize(dir.file("f32.h5")))
            #expect(ratio > 0.45 && ratio < 0.55, "f16/f32 file size ratio \(ratio)")
        }
    }

    @Test("gzip+shuffle compression: exact values, smaller file, partial chunks")
    func compressed() throws {
        try HDF5TemporaryDirectory.with { dir in
            // Mostly zeros (like sparse features) compresses well; odd sizes leave partial chunks.
            let shape = [601, 999]
            var values = [Float](repeating: 0, count: shape[0] * shape[1])
            for i in stride(from: 0, to: values.count, by: 97) { values[i] = Float(i % 1000) / 7 }

            let plain = try HDF5File.create(dir.file("plain.h5"))
            try plain.writeFloats("x", values, shape: shape)
            plain.close()
            let packed = try HDF5File.create(dir.file("packed.h5"))
            try packed.writeFloats("x", values, shape: shape, compressed: true)
            try packed.writeFloats("h", values, shape: shape, storage: .float16, compressed: true)
            try packed.writeFloats("small", [1, 2, 3], shape: [3], compressed: true)
            try packed.writeFloats("empty", [], shape: [0, 5], compressed: true)
            try packed.writeFloats("scalar", [4], shape: [], compressed: true)
            packed.close()

            let file = try HDF5File.open(dir.file("packed.h5"))
            #expect(try file.readFloats("x").values == values)
            #expect(try file.readFloats("x").shape == shape)
            let half = try file.readFloats("h").values
            #expect(zip(values, half).allSatisfy { abs($0 - $1) <= abs($0) / 2048 })
            #expect(try file.readFloats("small").values == [1, 2, 3])
            #expect(try file.readFloats("empty").shape == [0, 5])
            #expect(try file.readFloats("scalar").values == [4])
            let plainSize = try HDF5Fixtures.fileSize(dir.file("plain.h5"))
            let packedSize = try HDF5Fixtures.fileSize(dir.file("packed.h5"))
            #expect(packedSize * 5 < plainSize, "compressed \(packedSize) B vs plain \(plainSize) B")
        }
    }

    @Test("variable-length string array attributes on root, groups and datasets")
    func stringArrays() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("strings.h5")
            let names = ["background", "person", "", "élan vital", "猫", String(repeating: "x", count: 300)]
            let out = try HDF5File.create(path)
            try out.writeFloats("g/data", [1], shape: [1])
            try out.setStringArrayAttribute("names", names)
            try out.setStringArrayAttribute("names", names.reversed(), of: "g")
            try out.setStringArrayAttribute("names", ["only"], of: "g/data")
            try out.setStringArrayAttribute("none", [])
            try out.setStringArrayAttribute("replaced", ["old", "values"])
            try out.setStringArrayAttribute("replaced", ["new"])
            // Replaced by as many strings: the heap-id check before reading must find the
            // new attribute message, not the removed one.
            try out.setStringArrayAttribute("same", ["before", "b"])
            try out.setStringArrayAttribute("same", ["after, longer than before", "c"])
            out.close()

            let file = try HDF5File.open(path)
            #expect(try file.stringArrayAttribute("names") == names)
            #expect(try file.stringArrayAttribute("names", of: "/g") == names.reversed())
            #expect(try file.stringArrayAttribute("names", of: "g/data") == ["only"])
            #expect(try file.stringArrayAttribute("none") == [])
            #expect(try file.stringArrayAttribute("replaced") == ["new"])
            #expect(try file.stringArrayAttribute("same") == ["after, longer than before", "c"])
            // A one-element array also reads as a single string; two do not.
            #expect(try file.stringAttribute("names", of: "g/data") == "only")
            #expect(throws: HDF5Error.wrongType(path: path, object: "/",
                                                detail: "attribute 'names' holds 6 strings, not one")) {
                try file.stringAttribute("names")
            }
        }
    }

    @Test("scalar string and float attributes")
    func scalarAttributes() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("scalars.h5")
            let out = try HDF5File.create(path)
            try out.writeFloats("localizer/w", [0.5], shape: [1])
            try out.setStringAttribute("format", "divseg-samples-1")
            try out.setStringAttribute("class", "giraffe", of: "localizer")
            try out.setStringAttribute("empty", "")
            try out.setFloatAttribute("threshold", 0.35, of: "localizer")
            try out.setFloatAttribute("scale", -2.5, of: "localizer/w")
            out.close()

            let file = try HDF5File.open(path)
            #expect(try file.stringAttribute("format") == "divseg-samples-1")
            #expect(try file.stringArrayAttribute("format") == ["divseg-samples-1"])
            #expect(try file.stringAttribute("class", of: "localizer") == "giraffe")
            #expect(try file.stringAttribute("empty") == "")
            #expect(try file.floatAttribute("threshold", of: "localizer") == 0.35)
            #expect(try file.floatAttribute("scale", of: "localizer/w") == -2.5)
        }
    }

    @Test("string datasets")
    func stringDatasets() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("ids.h5")
            let ids = ["000000000025", "000000000061", "", "ü"]
            let out = try HDF5File.create(path)
            try out.writeStrings("samples/person/image_ids", ids)
            try out.writeStrings("samples/none", [])
            out.close()
            let file = try HDF5File.open(path)
            #expect(try file.readStrings("samples/person/image_ids") == ids)
            #expect(try file.readStrings("samples/none") == [])
            #expect(try file.shape(of: "samples/person/image_ids") == [4])
        }
    }

    @Test("writeAtomically: complete file at the path, no temporary left behind")
    func atomicWrite() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("bundle.h5")
            try HDF5File.writeAtomically(to: path) { file in
                #expect(file.path.hasPrefix(path + ".tmp-"))
                try file.writeFloats("w", [1, 2], shape: [2])
                try file.setStringAttribute("version", "1")
            }
            #expect(try dir.contents() == ["bundle.h5"])
            // Rewriting replaces the whole file.
            try HDF5File.writeAtomically(to: path) { file in
                try file.writeFloats("v", [3], shape: [1])
            }
            #expect(try dir.contents() == ["bundle.h5"])
            let file = try HDF5File.open(path)
            #expect(try file.childNames() == ["v"])
            #expect(try file.readFloats("v").values == [3])
        }
    }

    @Test("writeAtomically: a failing body leaves the old file and no temporary")
    func atomicWriteFailure() throws {
        struct Interrupted: Error, Equatable {}
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("bundle.h5")
            try HDF5File.writeAtomically(to: path) { try $0.writeFloats("w", [1, 2], shape: [2]) }
            #expect(throws: Interrupted()) {
                try HDF5File.writeAtomically(to: path) { file in
                    try file.writeFloats("w", [9, 9, 9], shape: [3])
                    throw Interrupted()
                }
            }
            #expect(throws: HDF5Error.self) {
                try HDF5File.writeAtomically(to: path) { try $0.writeFloats("w", [1], shape: [2]) }
            }
            #expect(try dir.contents() == ["bundle.h5"])
            #expect(try HDF5File.open(path).readFloats("w").values == [1, 2])

            #expect(throws: HDF5Error.self) {
                try HDF5File.writeAtomically(to: dir.file("missing-dir/x.h5")) { _ in }
            }
        }
    }

    @Test("close is idempotent; use after close and writes to read-only files are reported")
    func lifecycle() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("life.h5")
            let out = try HDF5File.create(path)
            #expect(out.isWritable)
            try out.writeFloats("x", [1], shape: [1])
            out.close()
            out.close()
            #expect(throws: HDF5Error.closed(path: path)) { try out.readFloats("x") }
            #expect(throws: HDF5Error.closed(path: path)) { try out.writeFloats("y", [1], shape: [1]) }
            #expect(!out.contains("x"))

            let file = try HDF5File.open(path)
            #expect(!file.isWritable)
            #expect(throws: HDF5Error.readOnly(path: path)) { try file.writeFloats("y", [1], shape: [1]) }
            #expect(throws: HDF5Error.readOnly(path: path)) { try file.setStringAttribute("a", "b") }
            #expect(throws: HDF5Error.readOnly(path: path)) { try file.writeStrings("s", ["b"]) }
            #expect(file.contains("x"))
            // Creating over a file replaces it.
            let again = try HDF5File.create(dir.file("life2.h5"))
            try again.writeFloats("z", [2], shape: [1])
            again.close()
            let replaced = try HDF5File.create(dir.file("life2.h5"))
            #expect(try replaced.childNames() == [])
        }
    }
}
