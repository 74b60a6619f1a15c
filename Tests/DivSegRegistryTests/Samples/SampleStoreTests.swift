import DivSeg
import DivSegCore
import DivSegIO
import DivSegRegistry
import Foundation
import Testing

@Suite("Sample store")
struct SampleStoreTests {
    private func picks(seed: UInt64, count: Int) -> SamplePicks {
        var rng = SplitMix64(seed: seed)
        let tensor = Tensor(shape: [FeatureGrid.channels, 2, 4], scalars: rng.floats(FeatureGrid.channels * 8).map { $0 * 300 })
        return SamplePicks(locations: Array([6, 1, 3, 0, 7].prefix(count)), hypercolumns: tensor, global: rng.floats(512))
    }

    @Test("entries round-trip exactly; missing, damaged and foreign entries are reported, never fatal")
    func entries() throws {
        let dir = try RegistryFixture.temporaryDirectory("samples")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SampleStore(registry: dir)
        #expect(store.directory == dir + "/.samples")
        let context = SampleKey.Context(sampler: PointSampler(pointsPerClass: 5), weightsSHA256: "w", featureRule: "r")
        let identity = SampleKey.LocalizerIdentity(sha256: "l", scoreScale: 2)
        let key = SampleKey.foreground(image: "img", className: "giraffe", localizer: identity, context: context)
        let other = SampleKey.background(image: "img", classes: [("giraffe", identity)], context: context)
        #expect(store.read(key, channels: FeatureGrid.channels, locationCount: 8) == .missing)
        // Settings that do not change diverse picks do not change the key; those that do, do.
        var dense = PointSampler(pointsPerClass: 5)
        dense.denseThreshold = 0.7
        dense.denseStride = 4
        #expect(SampleKey.Context(sampler: dense, weightsSHA256: "w", featureRule: "r") == context)
        #expect(SampleKey.Context(sampler: PointSampler(pointsPerClass: 6), weightsSHA256: "w", featureRule: "r") != context)
        #expect(SampleKey.Context(sampler: PointSampler(strategy: .top, pointsPerClass: 5), weightsSHA256: "w", featureRule: "r") != context)
        // Dense: the background rule and the confidence margin change the key; the threshold
        // does not matter once there is no background.
        var denseDefault = PointSampler(strategy: .dense)
        denseDefault.denseStride = 4
        let denseContext = SampleKey.Context(sampler: denseDefault, weightsSHA256: "w", featureRule: "r")
        #expect(denseContext.text.contains(#""denseThreshold":0.2"#) && !denseContext.text.contains("denseBackground"),
                "keys of dense stores written before issue #11 are unchanged")
        var exhaustive = denseDefault
        exhaustive.denseBackground = .none
        let exhaustiveContext = SampleKey.Context(sampler: exhaustive, weightsSHA256: "w", featureRule: "r")
        #expect(exhaustiveContext != denseContext)
        exhaustive.denseThreshold = 0.7
        #expect(SampleKey.Context(sampler: exhaustive, weightsSHA256: "w", featureRule: "r") == exhaustiveContext)
        var confident = denseDefault
        confident.denseMargin = 0.1
        #expect(SampleKey.Context(sampler: confident, weightsSHA256: "w", featureRule: "r") != denseContext)
        var capped = denseDefault
        capped.denseCap = 20
        #expect(SampleKey.Context(sampler: capped, weightsSHA256: "w", featureRule: "r") != denseContext)
        var diverseWithDenseSettings = PointSampler(pointsPerClass: 5)
        diverseWithDenseSettings.denseBackground = .none
        diverseWithDenseSettings.denseMargin = 0.3
        diverseWithDenseSettings.denseCap = 7
        #expect(SampleKey.Context(sampler: diverseWithDenseSettings, weightsSHA256: "w", featureRule: "r") == context)

        let original = picks(seed: 1, count: 5)
        #expect(original.isHalfPrecision)
        #expect(original.rows.allSatisfy { Float(Float16($0)) == $0 }, "rows are half-precision values")
        #expect(store.write(original, for: key, className: "giraffe"))
        #expect(store.read(key, channels: FeatureGrid.channels, locationCount: 8) == .hit(original))
        #expect(store.entryCount() == 1)
        // Half precision: 20 points of 4224 channels take ~170 KB.
        let size = try FileManager.default.attributesOfItem(atPath: store.path(for: key))[.size] as! Int
        #expect(size < 5 * FeatureGrid.channels * 2 + 16_000)

        // An entry copied under another key's name is not used.
        try FileManager.default.createDirectory(atPath: (store.path(for: other) as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: store.path(for: key), toPath: store.path(for: other))
        #expect(store.read(other, channels: FeatureGrid.channels, locationCount: 8) == .damaged("written for another key"))
        // A truncated entry is damaged, not a crash.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: store.path(for: key)))
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: store.path(for: key)))
        guard case .damaged = store.read(key, channels: FeatureGrid.channels, locationCount: 8) else {
            Issue.record("a truncated entry was not reported as damaged")
            return
        }
        // Rewriting repairs it.
        #expect(store.write(original, for: key, className: "giraffe"))
        #expect(store.read(key, channels: FeatureGrid.channels, locationCount: 8) == .hit(original))

        // Values beyond half precision keep float32 rows.
        let big = SamplePicks(locations: [0], hypercolumns: Tensor(shape: [FeatureGrid.channels, 1, 1],
                                                                    scalars: [Float](repeating: 1e6, count: FeatureGrid.channels)),
                              global: [1])
        #expect(!big.isHalfPrecision && big.rows[0] == 1e6)
        #expect(store.write(big, for: other))
        #expect(store.read(other, channels: FeatureGrid.channels, locationCount: 8) == .hit(big))
    }

    @Test("the segmenter is bit-identical whether the picks come from the store or are computed")
    func bitIdentical() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("samples")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["giraffe", "person"] { _ = try RegistryFixture.copyOfBundle(name, from: bundles, into: dir) }
        let registry = try Registry.open(dir, backbone: bundles.backbone)
        let retrainer = bundles.retrainer()
        let store = SampleStore(registry: dir)

        let fresh = try retrainer.retrain(registry)
        let filling = try retrainer.retrain(registry, store: store)
        let reused = try retrainer.retrain(registry, store: store)
        #expect(filling.samples.imagesReused == 0 && filling.samples.imagesResampled == fresh.images)
        #expect(reused.samples.imagesResampled == 0 && reused.samples.imagesReused == fresh.images)
        #expect(reused.samples.picksReused == fresh.points && reused.samples.picksRecomputed == 0)
        #expect(RegistryFixture.weights(of: fresh.segmenter) == RegistryFixture.weights(of: filling.segmenter))
        #expect(RegistryFixture.weights(of: fresh.segmenter) == RegistryFixture.weights(of: reused.segmenter))
        #expect(fresh.pointsPerLabel == reused.pointsPerLabel)

        // A damaged entry is recomputed and changes nothing.
        let entries = FileManager.default.enumerator(atPath: store.directory)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".h5") }
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: store.directory + "/" + entries[0]))
        let repaired = try retrainer.retrain(registry, store: store)
        #expect(repaired.samples.damagedEntries == 1 && repaired.samples.imagesResampled == 1)
        #expect(RegistryFixture.weights(of: repaired.segmenter) == RegistryFixture.weights(of: fresh.segmenter))
    }

    @Test("after a class is added or removed, exactly the images whose registered tags changed are re-sampled")
    func incremental() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("samples")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let editor = bundles.editor(dir)
        let retrainer = bundles.retrainer()
        try editor.add(bundleAt: bundles.path("giraffe"))
        let before = try retrainer.trainingImages(of: Registry.open(dir, backbone: bundles.backbone))

        let added = try editor.add(bundleAt: bundles.path("person"))
        let after = try retrainer.trainingImages(of: added.registry)
        let changed = after.filter { !before.contains($0) }
        #expect(!changed.isEmpty && changed.count < after.count)
        let usage = try #require(added.retraining?.samples)
        #expect(usage.imagesResampled == changed.count)
        #expect(usage.imagesReused == after.count - changed.count)
        #expect(usage.picksReused + usage.picksRecomputed == added.retraining!.points)

        // Removing person again: the images that had person go back to keys already stored.
        let removed = try editor.remove("person")
        #expect(removed.retraining?.samples.imagesResampled == 0)
        #expect(removed.retraining?.samples.imagesReused == before.count)
        // And the result is the segmenter trained from scratch for giraffe alone.
        let scratch = try retrainer.retrain(removed.registry)
        #expect(RegistryFixture.weights(of: scratch.segmenter) == RegistryFixture.weights(of: removed.retraining!.segmenter))
    }
}
