import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import DivSegTestSupport
import Testing
import DivSegMethodTestSupport

/// Issue #10, case 16: a NaN or infinity in loaded weights or cached features is never used
/// silently — the VGG file and localizer files are refused with the file (and array) named,
/// a damaged feature-cache entry is dropped and recomputed with a note, and training never
/// hands back NaN weights.
@Suite("Non-finite values in weights, localizers and cached features", .serialized)
struct NonFiniteInputTests {
    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-nonfinite-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    @Test("a NaN in the real VGG-16 weights file is refused with the file, layer and array named")
    func vggWeightsWithNaN() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Patch one bias value of block5_conv3 inside a byte-identical copy of the real file:
        // the 16 floats around it are unique enough to find it in the raw bytes.
        let keras = try KerasWeights(contentsOf: SharedData.weights)
        let bias = try #require(keras.layers["block5_conv3"]?[1].values)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: SharedData.weights))
        let pattern = bias[100..<116].withUnsafeBufferPointer { Data(buffer: $0) }
        let found = try #require(bytes.range(of: pattern), "block5_conv3's bias is stored contiguously")
        let nan = [Float.nan].withUnsafeBufferPointer { Data(buffer: $0) }
        bytes.replaceSubrange(found.lowerBound..<(found.lowerBound + 4), with: nan)
        let damaged = dir + "/vgg16_nan.h5"
        try bytes.write(to: URL(fileURLWithPath: damaged))

        do {
            _ = try VGG16(contentsOf: damaged)
            Issue.record("weights with a NaN were accepted")
        } catch let error as BackboneError {
            guard case let .nonFiniteWeight(path, layer, array, index) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == damaged && layer == "block5_conv3" && index == 100)
            #expect(array.contains("bias"))
            #expect(error.description.contains(damaged) && error.description.contains("block5_conv3")
                    && error.description.contains("intact copy"))
        }
        #expect(throws: BackboneError.self) { _ = try HypercolumnExtractor(weightsAt: damaged) }
    }

    @Test("a cached entry with NaN or infinity in 'global' or a hypercolumn group is dropped and recomputed",
          arguments: ["global", "grid"])
    func cachedFeaturesWithNaN(dataset: String) throws {
        let extractor = try HypercolumnExtractor(weightsAt: SharedData.weights)
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = LogLines()
        let cache = try FeatureCache(directory: dir, weightsAt: SharedData.weights, log: { log.append($0) })
        let image = "\(LocalizerFixture.dataRoot)/images/000000000025.jpg"
        let computed = try cache.lookup(image, extractor: extractor).features
        let entry = try cache.entryPath(for: image)

        // Rewrite the entry with every attribute intact and one value replaced.
        let stored = try HDF5File.open(entry)
        var arrays = try ["grid", "block4", "block5", "global"].map { try stored.readFloats($0) }
        let encodings = try ["grid", "block4", "block5"].map { try stored.stringAttribute("encoding", of: $0) }
        let names = ["format", "feature_rule", "weights_sha256", "image_sha256", "flipped", "source_image"]
        let attributes = try names.map { try stored.stringAttribute($0) }
        stored.close()
        let target = ["grid", "block4", "block5", "global"].firstIndex(of: dataset)!
        // In a float16-pairs group, a float32 NaN's upper half is a float16 NaN too.
        arrays[target].values[7] = dataset == "global" ? .infinity : .nan
        try HDF5File.writeAtomically(to: entry) { file in
            for (name, array) in zip(["grid", "block4", "block5", "global"], arrays) {
                try file.writeFloats(name, array.values, shape: array.shape, storage: .float32)
            }
            for (name, encoding) in zip(["grid", "block4", "block5"], encodings) {
                try file.setStringAttribute("encoding", encoding, of: name)
            }
            for (name, value) in zip(names, attributes) { try file.setStringAttribute(name, value) }
        }

        #expect(try cache.cachedFeatures(for: image) == nil)
        let again = try cache.lookup(image, extractor: extractor)
        guard case .recomputed(let reason) = again.outcome else {
            Issue.record("a non-finite '\(dataset)' was used: \(again.outcome)")
            return
        }
        #expect(reason.contains("NaN or infinite") && reason.contains(dataset))
        #expect(log.lines.contains { $0.contains(entry) && $0.contains("recomputing") })
        #expect(again.features.global == computed.global && again.features.grid == computed.grid)
        #expect(try cache.lookup(image, extractor: extractor).outcome == .hit)
    }

    @Test("a localizer file with a NaN weight is refused with the file and array named")
    func localizerFileWithNaN() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let k = FeatureGrid.channels, hidden = 4
        var fc1 = [Float](repeating: 0.01, count: hidden * k)
        fc1[123] = .nan
        let localizer = try Localizer(className: "giraffe", fc1Kernel: fc1, fc1Bias: [Float](repeating: 0, count: hidden),
                                      fc2Kernel: [Float](repeating: 0.1, count: 2 * hidden), fc2Bias: [0, 0],
                                      inputScale: [Float](repeating: 1, count: k))
        #expect(localizer.firstNonFiniteArray == "fc1/kernel")
        let path = dir + "/localizer.h5"
        try localizer.save(to: path, storage: .float32)
        for load in [{ _ = try Localizer(contentsOf: path) }, { _ = try LocalizerFile.load(contentsOf: path) }] {
            do {
                try load()
                Issue.record("a localizer with a NaN weight was loaded")
            } catch let error as LocalizerError {
                #expect(error.description.contains(path) && error.description.contains("fc1/kernel")
                        && error.description.contains("NaN"), "\(error)")
            }
        }
    }

    @Test("training results with NaN weights are refused, with what to do")
    func trainedWeightsWithNaN() throws {
        var parameters = SegmenterParameters(
            inputCount: 2, hiddenUnits: 1, classCount: 2, hiddenWeights: [1, 1], hiddenBias: [0],
            outputWeights: [1, 1], outputBias: [0, 0], inputMean: [0, 0], inputStd: [1, 1])
        #expect(parameters.firstNonFiniteArray == nil)
        parameters.outputWeights[1] = .infinity
        #expect(parameters.firstNonFiniteArray == "outputWeights")
        #expect(SegmenterError.nonFiniteWeights(array: "outputWeights").description.contains("Lower the learning rate"))
        #expect(LocalizerError.nonFiniteWeights(className: "giraffe", array: "fc1/kernel").description
            .contains("nothing was written"))
        #expect(FiniteCheck.firstNonFinite([1, 2, -.infinity, .nan]) == 2)
        #expect(FiniteCheck.firstNonFinite([0, -0, .greatestFiniteMagnitude]) == nil)
    }
}
