import DivSeg
import DivSegCore
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing
import DivSegMethodTestSupport

@Suite("FeatureCache: content-keyed, validated feature files", .serialized)
struct FeatureCacheTests {
    static let extractor = Result { try HypercolumnExtractor(weightsAt: SharedData.weights) }
    static let digest = Result { try FileDigest.sha256(ofFileAt: SharedData.weights) }
    static let images = ["000000000025", "000000000061"].map { "\(LocalizerFixture.dataRoot)/images/\($0).jpg" }

    /// float16 keeps 11 significant bits.
    static func withinHalfPrecision(_ a: Tensor, _ b: Tensor) -> Bool {
        a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= abs($1) * 0x1p-11 + 0x1p-24 }
    }

    @Test("a miss computes and stores; the next lookup hits, also for a renamed copy")
    func missThenHit() throws {
        let (extractor, digest) = (try Self.extractor.get(), try Self.digest.get())
        let dir = try LocalizerFixture.temporaryDirectory("feature-cache")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try FeatureCache(directory: dir + "/cache", weightsSHA256: digest)
        #expect(try cache.cachedFeatures(for: Self.images[0]) == nil)

        let first = try cache.lookup(Self.images[0], extractor: extractor)
        #expect(first.outcome == .computed)
        let entry = try cache.entryPath(for: Self.images[0])
        #expect(FileManager.default.fileExists(atPath: entry))
        #expect(entry.hasSuffix(try FileDigest.sha256(ofFileAt: Self.images[0]) + ".h5"))
        let size = try FileManager.default.attributesOfItem(atPath: entry)[.size] as! Int
        #expect(size > 16_000_000 && size < 19_000_000, "float16 entry is \(size) bytes")
        let direct = extractor.extractCompact(from: try ImageDecoder.decodeRGB(contentsOf: Self.images[0]))
        // Stored at half precision, rounded to nearest (as Swift's Float16 rounds).
        #expect(first.features.grid.scalars == direct.grid.scalars.map { Float(Float16($0)) })
        #expect(first.features.block5.scalars == direct.block5.scalars.map { Float(Float16($0)) })
        #expect(Self.withinHalfPrecision(first.features.block4, direct.block4))

        // A hit returns exactly what the miss returned.
        let second = try cache.lookup(Self.images[0], extractor: extractor)
        #expect(second.outcome == .hit)
        #expect(second.features.grid == first.features.grid)
        #expect(second.features.block4 == first.features.block4)
        #expect(second.features.block5 == first.features.block5)
        #expect(second.features.global == direct.global)
        let file = try HDF5File.open(entry)
        #expect(try file.stringAttribute("encoding", of: "grid") == "float16-pairs")
        #expect(try file.shape(of: "block5") == [1536, 168])
        file.close()

        // float32 storage keeps the values exactly.
        let exact = try FeatureCache(directory: dir + "/exact", weightsSHA256: digest, storage: .float32)
        #expect(try exact.lookup(Self.images[0], extractor: extractor).features.grid == direct.grid)
        #expect(try exact.lookup(Self.images[0], extractor: extractor).features.block4 == direct.block4)

        // Same bytes under another name and folder: a hit.
        let renamed = dir + "/elsewhere/renamed.jpg"
        try FileManager.default.createDirectory(atPath: dir + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.images[0], toPath: renamed)
        #expect(try cache.lookup(renamed, extractor: extractor).outcome == .hit)

        // The same name with other bytes: a miss.
        try FileManager.default.removeItem(atPath: renamed)
        try FileManager.default.copyItem(atPath: Self.images[1], toPath: renamed)
        #expect(try cache.lookup(renamed, extractor: extractor).outcome == .computed)
        #expect(try cache.lookup(Self.images[1], extractor: extractor).outcome == .hit)
    }

    @Test("an entry of another feature rule or other weights is recomputed, never used")
    func staleEntriesAreRecomputed() throws {
        let (extractor, digest) = (try Self.extractor.get(), try Self.digest.get())
        let dir = try LocalizerFixture.temporaryDirectory("feature-cache")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = LogLines()
        let cache = try FeatureCache(directory: dir, weightsSHA256: digest, log: { log.append($0) })
        let image = Self.images[0]
        let computed = try cache.lookup(image, extractor: extractor).features
        let entry = try cache.entryPath(for: image)

        // Rewrite the entry as if an older rule had built it.
        let stored = try HDF5File.open(entry)
        let arrays = try ["grid", "block4", "block5", "global"].map { try stored.readFloats($0) }
        let attributes = try ["format", "weights_sha256", "image_sha256", "flipped"].map { try stored.stringAttribute($0) }
        stored.close()
        try HDF5File.writeAtomically(to: entry) { file in
            for (name, array) in zip(["grid", "block4", "block5", "global"], arrays) {
                try file.writeFloats(name, array.values, shape: array.shape)
                if name != "global" { try file.setStringAttribute("encoding", "float16-pairs", of: name) }
            }
            for (name, value) in zip(["format", "weights_sha256", "image_sha256", "flipped"], attributes) {
                try file.setStringAttribute(name, value)
            }
            try file.setStringAttribute("feature_rule", "vgg16-hypercolumn-old-rule")
        }
        let afterRuleChange = try cache.lookup(image, extractor: extractor)
        guard case .recomputed(let reason) = afterRuleChange.outcome else {
            Issue.record("expected a recomputation, got \(afterRuleChange.outcome)")
            return
        }
        #expect(reason.contains("vgg16-hypercolumn-old-rule"))
        #expect(afterRuleChange.features.grid == computed.grid)
        #expect(log.lines.count == 1 && log.lines[0].contains(entry) && log.lines[0].contains("recomputing"))
        #expect(try cache.lookup(image, extractor: extractor).outcome == .hit)

        // A cache for other weights over the same directory refuses the entry.
        let other = try FeatureCache(directory: dir, weightsSHA256: String(repeating: "0", count: 64))
        #expect(try other.cachedFeatures(for: image) == nil)
        if case .recomputed(let reason) = try other.lookup(image, extractor: extractor).outcome {
            #expect(reason.contains("weights"))
        } else {
            Issue.record("an entry of other weights was used")
        }
    }

    @Test("a damaged entry is reported, recomputed and replaced", arguments: ["truncated", "garbage", "empty"])
    func corruptEntriesAreRecomputed(damage: String) throws {
        let (extractor, digest) = (try Self.extractor.get(), try Self.digest.get())
        let dir = try LocalizerFixture.temporaryDirectory("feature-cache")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = LogLines()
        let cache = try FeatureCache(directory: dir, weightsSHA256: digest, log: { log.append($0) })
        let image = Self.images[1]
        _ = try cache.lookup(image, extractor: extractor)
        let entry = try cache.entryPath(for: image)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: entry))
        switch damage {
        case "truncated": try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: entry))
        case "garbage": try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: entry))
        default: try Data().write(to: URL(fileURLWithPath: entry))
        }
        #expect(try cache.cachedFeatures(for: image) == nil)
        let again = try cache.lookup(image, extractor: extractor)
        guard case .recomputed(let reason) = again.outcome else {
            Issue.record("expected a recomputation, got \(again.outcome)")
            return
        }
        #expect(!reason.isEmpty)
        #expect(log.lines.contains { $0.contains(entry) && $0.contains(reason) })
        #expect(try cache.lookup(image, extractor: extractor).outcome == .hit)
    }

    @Test("precompute fills the cache once; mirrored features are separate entries")
    func precomputeAndFlips() throws {
        let (extractor, digest) = (try Self.extractor.get(), try Self.digest.get())
        let dir = try LocalizerFixture.temporaryDirectory("feature-cache")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try FeatureCache(directory: dir, weightsSHA256: digest)
        var seen: [Int] = []
        let first = try cache.precompute([Self.images[0]], extractor: extractor) { done, total in
            seen.append(done)
            #expect(total == 1)
        }
        #expect(first == FeatureCache.Summary(hits: 0, computed: 1, recomputed: 0))
        #expect(seen == [1])
        let second = try cache.precompute([Self.images[0]], extractor: extractor)
        #expect(second == FeatureCache.Summary(hits: 1, computed: 0, recomputed: 0))

        #expect(try cache.entryPath(for: Self.images[0], flipped: true) != cache.entryPath(for: Self.images[0]))
        #expect(try cache.cachedFeatures(for: Self.images[0], flipped: true) == nil)
        let mirrored = try cache.lookup(Self.images[0], extractor: extractor, flipped: true)
        #expect(mirrored.outcome == .computed)
        let plain = try #require(try cache.cachedFeatures(for: Self.images[0]))
        // Mirroring the image roughly mirrors the block5 maps (VGG kernels are not symmetric).
        let b5 = plain.block5, m5 = mirrored.features.block5
        var same = 0.0, swapped = 0.0
        for ch in 0..<1536 {
            for y in 0..<16 {
                for x in 0..<21 {
                    let v = b5[ch, y, x]
                    same += Double(abs(v - m5[ch, y, x]))
                    swapped += Double(abs(v - m5[ch, y, 20 - x]))
                }
            }
        }
        #expect(swapped < 0.6 * same, "mirrored block5 differs by \(swapped), unmirrored by \(same)")
    }

    @Test("a file where the directory should be is refused with its path")
    func unusableDirectory() throws {
        let dir = try LocalizerFixture.temporaryDirectory("feature-cache")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/not-a-directory"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        #expect(throws: FeatureCache.CacheError.unusableDirectory(path: file, reason: "it is a file")) {
            _ = try FeatureCache(directory: file, weightsSHA256: "abc")
        }
        let cache = try FeatureCache(directory: dir + "/c", weightsSHA256: "abc")
        #expect(throws: FeatureCache.CacheError.self) {
            _ = try cache.entryPath(for: dir + "/missing.jpg")
        }
    }
}
