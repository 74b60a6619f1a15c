import DivSegIO
import Foundation
import Testing

/// Foreign, truncated and damaged files, and wrong names: always a specific HDF5Error,
/// never a crash, a hang or HDF5 noise on stderr.
@Suite("HDF5: errors")
struct HDF5ErrorTests {
    @Test("missing file")
    func missingFile() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("nope.h5")
            #expect(throws: HDF5Error.fileNotFound(path: path)) { try HDF5File.open(path) }
            #expect(throws: HDF5Error.fileNotFound(path: dir.file("no-dir/x.h5"))) {
                try HDF5File.open(dir.file("no-dir/x.h5"))
            }
            #expect(HDF5Error.fileNotFound(path: path).description.contains(path))
        }
    }

    @Test("files that are not HDF5: empty, text, PNG")
    func notHDF5() throws {
        try HDF5TemporaryDirectory.with { dir in
            let empty = dir.file("empty.h5")
            _ = FileManager.default.createFile(atPath: empty, contents: Data())
            #expect(throws: HDF5Error.notHDF5(path: empty)) { try HDF5File.open(empty) }

            let text = dir.file("page.h5")
            try Data(String(repeating: "<html>404 not found</html>\n", count: 100).utf8)
                .write(to: URL(fileURLWithPath: text))
            #expect(throws: HDF5Error.notHDF5(path: text)) { try HDF5File.open(text) }

            let png = HDF5Fixtures.pngPath
            #expect(throws: HDF5Error.notHDF5(path: png)) { try HDF5File.open(png) }
            #expect(HDF5Error.notHDF5(path: png).description.contains(png))
        }
    }

    @Test("a directory is reported, not opened")
    func directory() throws {
        try HDF5TemporaryDirectory.with { dir in
            #expect {
                try HDF5File.open(dir.path)
            } throws: { error in
                guard case .notRegularFile(let path, let kind)? = error as? HDF5Error else { return false }
                return path == dir.path && kind.contains("directory")
            }
        }
    }

    @Test("weights truncated to 1 MB and 30 MB: corrupt, with HDF5's own reason", arguments: [1 << 20, 30 << 20])
    func truncated(bytes: Int) throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("truncated.h5")
            try HDF5Fixtures.copyPrefix(of: HDF5Fixtures.weightsPath, bytes: bytes, to: path)
            #expect {
                try HDF5File.open(path)
            } throws: { error in
                guard case .corrupt(let p, let detail)? = error as? HDF5Error else { return false }
                // HDF5 compares the stored end of file with the real one.
                return p == path && detail.contains("truncated file: eof = \(bytes)")
            }
            let description = HDF5Error.corrupt(path: path, detail: "x").description
            #expect(description.contains(path) && description.contains("truncated"))
        }
    }

    @Test("a file behind a 512-byte user block is found by its signature")
    func userBlock() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("userblock.h5")
            var data = Data(count: 512)
            data.append(try Data(contentsOf: URL(fileURLWithPath: HDF5Fixtures.referencePath())))
            try data.write(to: URL(fileURLWithPath: path))
            let original = try HDF5File.open(HDF5Fixtures.referencePath()).readFloats("conv5_3_max")
            let shifted = try HDF5File.open(path).readFloats("conv5_3_max")
            #expect(shifted.values == original.values)
        }
    }

    @Test("damaged bytes never crash: every failure is an HDF5Error", arguments: [96, 800, 2048, 4096, 8192])
    func damaged(offset: Int) throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("damaged.h5")
            var data = try Data(contentsOf: URL(fileURLWithPath: HDF5Fixtures.referencePath()))
            for i in offset..<(offset + 512) { data[i] = 0xA5 }
            try data.write(to: URL(fileURLWithPath: path))
            do {
                let file = try HDF5File.open(path)
                for name in (try? file.childNames()) ?? [] {
                    _ = try? file.readFloats(name)
                    _ = try? file.shape(of: name)
                }
                _ = try? file.stringArrayAttribute("layers")
            } catch {
                #expect(error is HDF5Error)
            }
        }
    }

    @Test("missing datasets, groups and attributes")
    func missingObjects() throws {
        let path = HDF5Fixtures.weightsPath
        let file = try HDF5File.open(path)
        #expect(throws: HDF5Error.missingObject(path: path, object: "block1_conv1/block1_conv1/nope:0")) {
            try file.readFloats("block1_conv1/block1_conv1/nope:0")
        }
        #expect(throws: HDF5Error.missingObject(path: path, object: "no/such/layer")) {
            try file.readFloats("no/such/layer")
        }
        #expect(throws: HDF5Error.missingObject(path: path, object: "nope")) { try file.shape(of: "nope") }
        #expect(throws: HDF5Error.missingObject(path: path, object: "nope")) { try file.childNames(of: "nope") }
        #expect(throws: HDF5Error.missingAttribute(path: path, object: "block1_conv1", attribute: "nope")) {
            try file.stringArrayAttribute("nope", of: "block1_conv1")
        }
        #expect(throws: HDF5Error.missingObject(path: path, object: "block9_conv1")) {
            try file.stringArrayAttribute("weight_names", of: "block9_conv1")
        }
        let message = HDF5Error.missingObject(path: path, object: "block1_conv1/block1_conv1/nope:0").description
        #expect(message.contains(path) && message.contains("block1_conv1/block1_conv1/nope:0"))
    }

    @Test("wrong types: strings as floats, groups as datasets, numbers as strings")
    func wrongTypes() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("types.h5")
            let file = try HDF5File.create(path)
            try file.writeStrings("names", ["a", "b"])
            try file.writeFloats("g/x", [1, 2], shape: [2])
            try file.setFloatAttribute("scale", 2)

            func isWrongType(_ object: String, _ fragment: String) -> (any Error) -> Bool {
                { error in
                    guard case .wrongType(let p, let o, let detail)? = error as? HDF5Error else { return false }
                    return p == path && o == object && detail.contains(fragment)
                }
            }
            #expect(performing: { try file.readFloats("names") }, throws: isWrongType("names", "strings, not numbers"))
            #expect(performing: { try file.readFloats("g") }, throws: isWrongType("g", "is a group, not a dataset"))
            #expect(performing: { try file.readStrings("g/x") }, throws: isWrongType("g/x", "not strings"))
            #expect(performing: { try file.childNames(of: "g/x") }, throws: isWrongType("g/x", "is a dataset, not a group"))
            #expect(performing: { try file.stringAttribute("scale") }, throws: isWrongType("/", "not strings"))
            // Writing a dataset where a group is would destroy the group's contents.
            #expect(performing: { try file.writeFloats("g", [1], shape: [1]) }, throws: isWrongType("g", "is a group"))
            #expect(performing: { try file.writeFloats("g/x/below", [1], shape: [1]) },
                    throws: isWrongType("g/x/below", "'g/x' is a dataset"))
            file.close()

            let keras = try HDF5File.open(HDF5Fixtures.weightsPath)
            #expect(throws: HDF5Error.self) { try keras.floatAttribute("layer_names") }
        }
    }

    @Test("values that do not fit the shape")
    func shapeMismatch() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("shape.h5")
            let file = try HDF5File.create(path)
            #expect(throws: HDF5Error.shapeMismatch(path: path, object: "x",
                                                    detail: "shape [2, 3] holds 6 values but 5 were given")) {
                try file.writeFloats("x", [1, 2, 3, 4, 5], shape: [2, 3])
            }
            #expect(throws: HDF5Error.self) { try file.writeFloats("x", [], shape: [-1, 0]) }
            #expect(throws: HDF5Error.self) { try file.writeFloats("x", [1], shape: Array(repeating: 1, count: 33)) }
            #expect(!file.contains("x"))
        }
    }

    @Test("creating in a missing directory fails with the system's reason")
    func createFailure() throws {
        try HDF5TemporaryDirectory.with { dir in
            let path = dir.file("no-dir/out.h5")
            #expect {
                try HDF5File.create(path)
            } throws: { error in
                guard case .writeFailed(let p, let detail)? = error as? HDF5Error else { return false }
                return p == path && detail.contains("No such file or directory")
            }
        }
    }
}
