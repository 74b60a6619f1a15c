import DivSeg
import DivSegCore
import DivSegIO
import DivSegRegistry
import Foundation
import Testing

/// `gc` (issue #13 point 10): only unused entries, only entry files, only when asked.
@Suite("StorageCollector: unused sample-store and feature-cache entries")
struct StorageCollectorTests {
    @Test("entries of removed classes and foreign images are unused; registered ones are kept; other files are never touched")
    func collects() throws {
        let bundles = try RegistryFixture.bundles.get()
        let dir = try RegistryFixture.temporaryDirectory("gc")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var editor = bundles.editor(dir + "/registry")
        editor.sampleStoreDirectory = dir + "/cache/samples"
        try editor.add(bundleAt: bundles.path("giraffe"))
        let removedLater = try editor.add(bundleAt: bundles.path("person"))
        let store = SampleStore(directory: dir + "/cache/samples")
        let entriesWithPerson = store.entryCount()
        #expect(removedLater.retraining != nil && entriesWithPerson > 0)

        // A feature cache folder with an entry of a corpus image, one of another image, and other files.
        let cache = dir + "/cache"
        let corpusImage = try Registry.open(dir + "/registry", backbone: bundles.backbone).bundles[0].corpus().entries[0].sha256
        let foreign = String(repeating: "ab", count: 32)
        for (digest, suffix) in [(corpusImage, ".state.h5"), (corpusImage, ".h5"), (foreign, ".h5"), (foreign, "-hflip.state.h5")] {
            try FileManager.default.createDirectory(atPath: "\(cache)/\(digest.prefix(2))", withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(cache)/\(digest.prefix(2))/\(digest)\(suffix)"))
        }
        let bystanders = ["\(cache)/notes.txt", "\(cache)/ab/readme.h5", "\(cache)/samples/v1/fg/keep.txt"]
        for path in bystanders {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("mine".utf8).write(to: URL(fileURLWithPath: path))
        }
        // A link to a file outside: never followed, never deleted.
        let outside = dir + "/outside.h5"
        try Data("outside".utf8).write(to: URL(fileURLWithPath: outside))
        try FileManager.default.createSymbolicLink(atPath: "\(cache)/ab/\(String(repeating: "cd", count: 32)).h5", withDestinationPath: outside)

        var registry = try Registry.open(dir + "/registry", backbone: bundles.backbone)
        let before = try StorageCollector.plan(registries: [registry], sampleStore: store.directory, cacheDirectory: cache)
        #expect(before.sampleEntries.isEmpty, "\(before.sampleEntries.map(\.reason))")
        #expect(before.keptSampleEntries == entriesWithPerson)
        #expect(before.cacheEntries.map { ($0.path as NSString).lastPathComponent }.sorted()
                == ["\(foreign)-hflip.state.h5", "\(foreign).h5"])
        #expect(before.keptCacheEntries == 2)

        // Removing person leaves its picks (and the images' other entries with person) unused.
        try editor.remove("person")
        registry = try Registry.open(dir + "/registry", backbone: bundles.backbone)
        let after = try StorageCollector.plan(registries: [registry], sampleStore: store.directory, cacheDirectory: cache)
        #expect(!after.sampleEntries.isEmpty)
        #expect(after.sampleEntries.allSatisfy { $0.path.hasPrefix(store.directory + "/v1/") })
        #expect(after.keptSampleEntries + after.sampleEntries.count == store.entryCount())
        // A dry run (the plan) deleted nothing; deleting removes exactly the planned files.
        #expect(after.sampleEntries.allSatisfy { FileManager.default.fileExists(atPath: $0.path) })
        let failures = after.delete()
        #expect(failures.isEmpty)
        #expect(after.sampleEntries.allSatisfy { !FileManager.default.fileExists(atPath: $0.path) })
        #expect(store.entryCount() == after.keptSampleEntries)
        for path in bystanders + [outside] { #expect(FileManager.default.fileExists(atPath: path), "\(path) kept") }
        // The registry retrains from the entries kept: nothing re-sampled.
        let again = try editor.retrain()
        #expect(again.retraining?.samples.imagesResampled == 0)
        // Naming another registry keeps its entries.
        let nothing = try StorageCollector.plan(registries: [registry], sampleStore: store.directory, cacheDirectory: nil)
        #expect(nothing.sampleEntries.isEmpty && nothing.cacheEntries.isEmpty)
    }

    @Test("the store location: inside, cache, a folder, and a registry's existing .samples kept by default")
    func location() throws {
        let dir = try RegistryFixture.temporaryDirectory("store-location")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let registry = dir + "/registry"
        try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: true)
        #expect(try SampleStoreLocation.directory(registry: registry, cacheDirectory: dir + "/c") == dir + "/c/samples")
        try RegistrySettings(sampleStore: "inside").write(registry: registry)
        #expect(try SampleStoreLocation.directory(registry: registry, cacheDirectory: dir + "/c") == registry + "/.samples")
        try RegistrySettings(sampleStore: "../elsewhere").write(registry: registry)
        #expect(try SampleStoreLocation.directory(registry: registry, cacheDirectory: dir + "/c") == dir + "/elsewhere")
        try RegistrySettings().write(registry: registry)
        try FileManager.default.createDirectory(atPath: registry + "/.samples", withIntermediateDirectories: true)
        #expect(try SampleStoreLocation.directory(registry: registry, cacheDirectory: dir + "/c") == registry + "/.samples")
        try RegistrySettings(sampleStore: "cache").write(registry: registry)
        #expect(try SampleStoreLocation.directory(registry: registry, cacheDirectory: dir + "/c") == dir + "/c/samples")
    }
}
