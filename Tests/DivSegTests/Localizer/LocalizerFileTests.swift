import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import Testing
import DivSegMethodTestSupport

@Suite("Localizer: HDF5 files")
struct LocalizerFileTests {
    static func sample() throws -> Localizer {
        var rng = SplitMix64(seed: 77)
        let base = Localizer(randomWithHiddenUnits: 32, className: "giraffe", loss: .pixelSoftmax,
                             inputScale: rng.floats(4224, in: 0.001...0.1), borderMargin: 1, seed: 8)
        return try Localizer(className: "giraffe", loss: .pixelSoftmax, fc1Kernel: base.fc1Kernel,
                             fc1Bias: rng.floats(32, in: -1...1), fc2Kernel: base.fc2Kernel, fc2Bias: [0.25, -0.5],
                             inputScale: base.inputScale, scoreScale: 3.5, differenceScale: 2.25,
                             backgroundScale: 1.75, borderMargin: 1)
    }

    @Test("float32 files round-trip exactly")
    func float32RoundTrip() throws {
        let dir = try LocalizerFixture.temporaryDirectory("localizer-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let original = try Self.sample()
        try original.save(to: dir + "/localizer.h5")
        let loaded = try Localizer(contentsOf: dir + "/localizer.h5")
        #expect(loaded.fc1Kernel == original.fc1Kernel && loaded.fc1Bias == original.fc1Bias)
        #expect(loaded.fc2Kernel == original.fc2Kernel && loaded.fc2Bias == original.fc2Bias)
        #expect(loaded.inputScale == original.inputScale)
        #expect(loaded.loss == .pixelSoftmax && loaded.hiddenUnits == 32 && loaded.className == "giraffe")
        #expect(loaded.scoreScale == 3.5 && loaded.differenceScale == 2.25 && loaded.backgroundScale == 1.75)
        #expect(loaded.borderMargin == 1 && loaded.featureRule == FeatureGrid.ruleName)
        let file = try HDF5File.open(dir + "/localizer.h5")
        #expect(try file.shape(of: "fc1/kernel") == [32, 4224])
        #expect(try file.shape(of: "fc2/kernel") == [2, 32])
        #expect(try file.stringAttribute("loss") == "pixel-softmax")
        #expect(try file.floatAttribute("score_scale") == 3.5)
    }

    @Test("float16 files keep fc1 within half precision, the rest exactly, at half the size")
    func float16RoundTrip() throws {
        let dir = try LocalizerFixture.temporaryDirectory("localizer-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let original = try Self.sample()
        try original.save(to: dir + "/full.h5")
        try original.save(to: dir + "/half.h5", storage: .float16)
        let loaded = try Localizer(contentsOf: dir + "/half.h5")
        #expect(zip(loaded.fc1Kernel, original.fc1Kernel).allSatisfy { abs($0 - $1) <= abs($1) * 0x1p-11 + 0x1p-24 })
        #expect(loaded.fc1Kernel != original.fc1Kernel)
        #expect(loaded.inputScale == original.inputScale && loaded.fc2Kernel == original.fc2Kernel)
        let size = { (p: String) in try FileManager.default.attributesOfItem(atPath: p)[.size] as! Int }
        #expect(try Double(size(dir + "/half.h5")) < 0.6 * Double(size(dir + "/full.h5")))
    }

    @Test("files of another feature rule, wrong shapes or another format are refused by name")
    func refusals() throws {
        let dir = try LocalizerFixture.temporaryDirectory("localizer-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let original = try Self.sample()
        let path = dir + "/localizer.h5"
        try original.save(to: path)
        #expect(throws: LocalizerError.incompatibleFeatureRule(path: path, found: FeatureGrid.ruleName, expected: "other-rule")) {
            _ = try Localizer(contentsOf: path, featureRule: "other-rule")
        }

        // fc2/kernel with the wrong shape.
        try HDF5File.writeAtomically(to: path) { file in
            try file.writeFloats("fc1/kernel", original.fc1Kernel, shape: [32, 4224])
            try file.writeFloats("fc1/bias", original.fc1Bias, shape: [32])
            try file.writeFloats("fc2/kernel", original.fc2Kernel + [0, 0], shape: [2, 33])
            try file.writeFloats("fc2/bias", original.fc2Bias, shape: [2])
            try file.writeFloats("input_scale", original.inputScale, shape: [4224])
            try file.setStringAttribute("format", Localizer.formatName)
            try file.setStringAttribute("loss", "global-softmax")
            try file.setStringAttribute("feature_rule", FeatureGrid.ruleName)
            try file.setFloatAttribute("hidden_units", 32)
            try file.setFloatAttribute("score_scale", 1)
        }
        #expect(throws: LocalizerError.wrongShape(path: path, dataset: "fc2/kernel", found: [2, 33], expected: [2, 32])) {
            _ = try Localizer(contentsOf: path)
        }

        let segmenterLike = dir + "/other.h5"
        try HDF5File.writeAtomically(to: segmenterLike) { file in
            try file.writeFloats("hidden/kernel", [1], shape: [1])
        }
        do {
            _ = try Localizer(contentsOf: segmenterLike)
            Issue.record("a file without localizer attributes was loaded")
        } catch let error as LocalizerError {
            #expect(error.description.contains(segmenterLike) && error.description.contains("format"))
        }
        #expect(throws: HDF5Error.fileNotFound(path: dir + "/missing.h5")) {
            _ = try Localizer(contentsOf: dir + "/missing.h5")
        }
    }
}
