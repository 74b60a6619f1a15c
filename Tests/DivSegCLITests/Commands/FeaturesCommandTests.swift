import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

@Suite("divseg-registry features")
struct FeaturesCommandTests {
    let reference = SharedData.referenceDir

    @Test("one image → one file whose hypercolumns match the reference vectors (float32 storage)")
    func singleImage() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("f.h5").path
        let result = try CLIRunner.run(["features", "\(reference)/000000000061_256x336.png", "--out", out,
                                        "--storage", "float32"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "progress must stay off when stderr is not a terminal: \(result.stderr)")

        let file = try HDF5File.open(out)
        defer { file.close() }
        let hypercolumn = try file.readFloats("hypercolumn")
        #expect(hypercolumn.shape == [4224, 64, 84])
        #expect(try file.shape(of: "global") == [512])

        let ref = try HDF5File.open("\(reference)/000000000061_256x336.h5")
        defer { ref.close() }
        let locations = try ref.readFloats("sample_locations").values.map { Int($0) }
        let samples = try ref.readFloats("hypercolumn_samples").values
        var worst: Float = 0
        for s in 0..<8 {
            let (row, col) = (locations[2 * s], locations[2 * s + 1])
            for c in 0..<4224 {
                let got = hypercolumn.values[(c * 64 + row) * 84 + col]
                let expected = samples[s * 4224 + c]
                worst = max(worst, abs(got - expected) / max(1, abs(expected)))
            }
        }
        #expect(worst <= 1e-3, "worst relative disagreement \(worst)")
    }

    @Test("the default float16 file holds the float32 values rounded to float16, in half the bytes")
    func float16ByDefault() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = "\(reference)/000000000025_256x336.png"
        let half = dir.appendingPathComponent("half.h5").path, full = dir.appendingPathComponent("full.h5").path
        for (out, extra) in [(half, [String]()), (full, ["--storage", "float32"])] {
            let result = try CLIRunner.run(["features", image, "--out", out] + extra)
            #expect(result.status == 0, "\(result.stderr)")
        }
        let size = { (path: String) in try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int }
        let (halfBytes, fullBytes) = (try size(half), try size(full))
        #expect(halfBytes * 10 < fullBytes * 6, "float16 must take about half the bytes")
        let a = try HDF5File.open(half), b = try HDF5File.open(full)
        defer { a.close(); b.close() }
        for dataset in ["hypercolumn", "global"] {
            let (h, f) = (try a.readFloats(dataset), try b.readFloats(dataset))
            #expect(h.shape == f.shape)
            // Each value must be exactly the float16 nearest to the float32 one (same computation).
            let mismatches = zip(h.values, f.values).filter { $0 != Float(Float16($1)) }.count
            #expect(mismatches == 0, "\(dataset): \(mismatches) values are not the float16 rounding")
        }
    }

    @Test("several images → a directory of <name>.h5; a corrupt image fails alone, named")
    func severalImagesWithOneCorrupt() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("broken.jpg")
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: SharedData.cocoMiniImage("000000000139")))
        try jpeg.prefix(jpeg.count / 2).write(to: bad)
        let out = dir.appendingPathComponent("features").path
        let result = try CLIRunner.run(["features", SharedData.cocoMiniImage("000000000139"),
                                        bad.path, "\(reference)/000000000025_256x336.png", "--out", out])
        #expect(result.status == 2, "partial failure exits 2; stderr: \(result.stderr)")
        #expect(result.stderr.contains(bad.path))
        let written = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(written == ["000000000025_256x336.h5", "000000000139.h5"])
        let file = try HDF5File.open(out + "/000000000139.h5")
        #expect(try file.shape(of: "hypercolumn") == [4224, 64, 84])
    }

    @Test("missing weights give an actionable message")
    func missingWeights() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLIRunner.run(["features", "\(reference)/000000000025_256x336.png",
                                        "--out", dir.appendingPathComponent("x.h5").path,
                                        "--weights", dir.appendingPathComponent("nope.h5").path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("VGG-16 weights not found"))
        #expect(result.stderr.contains("nope.h5"))
    }

    @Test("a --weights that is not VGG-16 weights is named as such, not as a backbone mismatch of every bundle")
    func notWeights() throws {
        // An HDF5 file of another kind (a shipped localizer) and a file that is not HDF5 at all.
        let cases = [(SharedData.shippedRegistry + "/giraffe/localizer.h5", "not a Keras weights file"),
                     (SharedData.cocoMiniImage("000000000025"), "is not an HDF5 file")]
        for (path, message) in cases {
            for command in [["list"], ["verify"], ["show", "giraffe"]] {
                let result = try CLIRunner.run(command + ["--registry", SharedData.shippedRegistry, "--weights", path])
                #expect(result.status != 0, "\(command)")
                #expect(result.stderr.contains(message) && result.stderr.contains(path), "\(command): \(result.stderr)")
                #expect(!result.stderr.contains("feature extractor"), "\(command): \(result.stderr)")
            }
        }
    }
}
