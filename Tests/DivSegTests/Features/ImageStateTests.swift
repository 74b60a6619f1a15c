import DivSeg
import DivSegCore
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing
import DivSegMethodTestSupport

/// Compact per-image state (issue #14 item 1): what CAM-style localizers read, stored in
/// 0.35 MB per image, giving the same numbers as the full 17.5 MB entries.
@Suite("ImageState: compact per-image state entries of the feature cache", .serialized)
struct ImageStateTests {
    static let extractor = Result { try HypercolumnExtractor(weightsAt: SharedData.weights) }
    static let digest = Result { try FileDigest.sha256(ofFileAt: SharedData.weights) }
    static let images = ["000000000025", "000000000061"].map { "\(LocalizerFixture.dataRoot)/images/\($0).jpg" }

    @Test("a state entry is ≤ 0.5 MB, needs no full entry, and equals the full entry's block5_conv3 and global bit for bit")
    func stateEqualsFull() throws {
        let (extractor, digest) = (try Self.extractor.get(), try Self.digest.get())
        let dir = try LocalizerFixture.temporaryDirectory("image-state")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Two caches: one computes states from the backbone alone, one from full entries.
        let compactOnly = try FeatureCache(directory: dir + "/states", weightsSHA256: digest)
        let full = try FeatureCache(directory: dir + "/full", weightsSHA256: digest)
        for image in Self.images {
            let first = try compactOnly.stateLookup(image, extractor: extractor)
            #expect(first.outcome == .computed)
            #expect(!FileManager.default.fileExists(atPath: try compactOnly.entryPath(for: image)), "no full entry written")
            let statePath = try compactOnly.statePath(for: image)
            let size = try FileManager.default.attributesOfItem(atPath: statePath)[.size] as! Int
            #expect(size <= 500_000 && size > 300_000, "state entry is \(size) bytes")
            #expect(try compactOnly.stateLookup(image, extractor: extractor).outcome == .hit)

            let features = try full.features(for: image, extractor: extractor)
            #expect(first.state == features.state)
            #expect(first.state.pooledBlock5Conv3 == features.pooledBlock5Conv3)
            // Migration: a cache holding only the full entry makes the state from it.
            let migrated = try full.stateLookup(image, extractor: extractor)
            #expect(migrated.outcome == .computed && migrated.state == features.state)
            #expect(try full.cachedState(for: image) == features.state)

            // Sampling recomputes the full groups without storing them, rounded as stored.
            let sampling = try compactOnly.samplingFeatures(for: image, extractor: extractor)
            #expect(!FileManager.default.fileExists(atPath: try compactOnly.entryPath(for: image)))
            #expect(sampling.grid == features.grid && sampling.block4 == features.block4 && sampling.block5 == features.block5)
            #expect(sampling.global == features.global)
        }
        // A damaged state entry is recomputed, never used.
        let path = try compactOnly.statePath(for: Self.images[0])
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: path))
        let repaired = try compactOnly.stateLookup(Self.images[0], extractor: extractor)
        guard case .recomputed = repaired.outcome else { Issue.record("damaged entry was used: \(repaired.outcome)"); return }
        #expect(repaired.state == (try full.features(for: Self.images[0], extractor: extractor)).state)
        // Entries of other weights are not used.
        let other = try FeatureCache(directory: dir + "/states", weightsSHA256: String(repeating: "0", count: 64))
        #expect(try other.cachedState(for: Self.images[0]) == nil)
    }

    @Test("a CAM localizer trained from states equals one trained from the full hypercolumns, and scores equal")
    func camFromStates() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        var trainer = AveragePooledLocalizerTrainer()
        trainer.regression.epochs = 20
        let fromFull = try trainer.train(className: "giraffe", positives: fixture.positives, negativeCandidates: fixture.negatives,
                                         features: { path, _ in try fixture.features(path) })
        // Only state entries: copied into a cache folder that holds nothing else.
        let dir = try LocalizerFixture.temporaryDirectory("image-state-cam")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let statesOnly = try FeatureCache(directory: dir, weightsSHA256: fixture.cache.weightsSHA256)
        for path in fixture.positives + fixture.negatives {
            _ = try fixture.cache.state(for: path, extractor: fixture.extractor)
            let target = try statesOnly.statePath(for: path)
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: try fixture.cache.statePath(for: path), toPath: target)
        }
        let fromStates = try trainer.train(className: "giraffe", positives: fixture.positives, negativeCandidates: fixture.negatives,
                                           states: { path, flipped in
                                               guard let state = try statesOnly.cachedState(for: path, flipped: flipped) else {
                                                   throw LocalizerError.featuresUnavailable(imagePath: path, reason: "no state entry")
                                               }
                                               return state
                                           })
        #expect(FileManager.default.enumerator(atPath: dir)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".h5") }.allSatisfy { $0.hasSuffix(".state.h5") })
        #expect(fromStates.localizer == fromFull.localizer)
        #expect(fromStates.report.accuracy == fromFull.report.accuracy && fromStates.report.auc == fromFull.report.auc)
        #expect(fromStates.report.epochLosses == fromFull.report.epochLosses)
        for path in fixture.positives.prefix(3) {
            let compact = try fixture.features(path)
            let state = try fixture.cache.state(for: path, extractor: fixture.extractor)
            for kind in LocalizerScore.allCases {
                #expect(fromStates.localizer.score(state, kind: kind) == fromStates.localizer.score(compact, kind: kind))
            }
            #expect(fromStates.localizer.logit(state) == fromStates.localizer.logit(compact))
        }
    }
}
