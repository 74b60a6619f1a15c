import DivSeg
import DivSegCore
import DivSegIO
import DivSegRegistry
import Foundation
import Testing

/// The compact sample store (issue #14 items 1 and 3): sparse half-precision rows, entries of
/// older builds still read, and training rows streamed back from the store under a cap.
@Suite("Sample store: compact rows and capped retraining")
struct SampleStoreCompactTests {
    static let context = SampleKey.Context(sampler: PointSampler(pointsPerClass: 5), weightsSHA256: "w", featureRule: "r")
    static let key = SampleKey.foreground(image: "img", className: "giraffe",
                                          localizer: .init(sha256: "l", scoreScale: 2), context: context)

    /// Post-ReLU-like rows: most values exactly zero.
    static func picks(count: Int) -> SamplePicks {
        var rng = SplitMix64(seed: 9)
        let n = count
        let scalars = (0..<(FeatureGrid.channels * n)).map { _ in max(0, rng.nextGaussian() - 0.3) * 50 }
        return SamplePicks(locations: Array(0..<n), hypercolumns: Tensor(shape: [FeatureGrid.channels, 1, n], scalars: scalars),
                           global: rng.floats(512))
    }

    @Test("entries store sparse half-precision rows, read back bit for bit, smaller than dense float16")
    func sparseEntries() throws {
        let dir = try RegistryFixture.temporaryDirectory("samples-compact")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SampleStore(directory: dir + "/store")
        let original = Self.picks(count: 40)
        #expect(store.write(original, for: Self.key, className: "giraffe"))
        #expect(store.read(Self.key, channels: FeatureGrid.channels, locationCount: 5376) == .hit(original))
        let file = try HDF5File.open(store.path(for: Self.key))
        #expect(try file.stringAttribute("encoding") == SparseHalfRows.encodingName)
        #expect(!file.contains("features"))
        file.close()
        let size = try FileManager.default.attributesOfItem(atPath: store.path(for: Self.key))[.size] as! Int
        let zeros = original.rows.filter { $0 == 0 }.count
        #expect(zeros > original.rows.count / 3)
        #expect(size < 40 * FeatureGrid.channels * 2 * 3 / 4, "\(size) bytes for 40 rows")
    }

    @Test("entries written by earlier builds (dense float16 'features') are still read")
    func oldEntries() throws {
        let dir = try RegistryFixture.temporaryDirectory("samples-old")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SampleStore(directory: dir)
        let original = Self.picks(count: 5)
        let path = store.path(for: Self.key)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // The layout of divseg-samples-1 entries before the sparse rows.
        try HDF5File.writeAtomically(to: path) { file in
            try file.setStringAttribute("format", SampleStore.formatName)
            try file.setStringAttribute("key", Self.key.text)
            try file.setStringAttribute("class", "giraffe")
            try file.setStringAttribute("encoding", "float16")
            try file.setFloatAttribute("count", 5)
            try file.writeFloats("global", original.global, shape: [512])
            try file.writeFloats("locations", original.locations.map(Float.init), shape: [5])
            try file.writeFloats("features", original.rows, shape: [5, FeatureGrid.channels], storage: .float16)
        }
        #expect(store.read(Self.key, channels: FeatureGrid.channels, locationCount: 5376) == .hit(original))
    }

    @Test("retraining under a memory cap: identical segmenter when the rows fit, streamed from the store when not")
    func cappedRetraining() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("samples-capped")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["giraffe", "person"] { _ = try RegistryFixture.copyOfBundle(name, from: bundles, into: dir) }
        let registry = try Registry.open(dir, backbone: bundles.backbone)
        let store = SampleStore(directory: dir + "/store")
        let plain = try bundles.retrainer().retrain(registry, store: store)

        var capped = bundles.retrainer()
        capped.maxMemory = MemorySize(bytes: 4 << 30)
        let fits = try capped.retrain(registry, store: store)
        #expect(RegistryFixture.weights(of: fits.segmenter) == RegistryFixture.weights(of: plain.segmenter))
        #expect(fits.points == plain.points && fits.pointsPerLabel == plain.pointsPerLabel)
        // Also when the picks are computed in the same run (an empty store): rows read back equal.
        let fresh = try capped.retrain(registry, store: SampleStore(directory: dir + "/fresh"))
        #expect(RegistryFixture.weights(of: fresh.segmenter) == RegistryFixture.weights(of: plain.segmenter))

        // The smallest cap that takes the largest image's rows (found by raising it): far
        // below all rows, so they are streamed, and every point is still trained on.
        let rowBytes = (FeatureGrid.channels + 512) * 4 + 4
        let reserve = SegmenterTrainer.memoryReserve(inputs: FeatureGrid.channels + 512, hidden: 64, classes: 3, largestBlock: 0)
        var streamedResult: SegmenterRetrainer.Result?
        for rows in stride(from: 1, through: plain.points, by: max(1, plain.points / 40)) {
            capped.maxMemory = MemorySize(bytes: reserve + rows * rowBytes)
            do {
                streamedResult = try capped.retrain(registry, store: store)
                break
            } catch SegmenterError.invalidSetting(let violation) {
                #expect(violation.name == "maxMemory")
            }
        }
        let streamed = try #require(streamedResult)
        #expect(streamed.points == plain.points && streamed.pointsPerLabel == plain.pointsPerLabel)
        #expect(streamed.report.pointCount == plain.points)
        #expect(RegistryFixture.weights(of: streamed.segmenter) != RegistryFixture.weights(of: plain.segmenter))
        #expect(RegistryFixture.weights(of: streamed.segmenter)[4] == RegistryFixture.weights(of: plain.segmenter)[4]
                || zip(RegistryFixture.weights(of: streamed.segmenter)[4], RegistryFixture.weights(of: plain.segmenter)[4])
                    .allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "same input means")
    }
}
