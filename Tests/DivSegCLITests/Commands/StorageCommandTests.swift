import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

/// Disk (issue #13 point 10, issue #14): where the sample store is, sizes in list/verify,
/// gc as a dry run unless --delete, and retrain --max-memory.
@Suite("divseg-registry sample store place, sizes, gc, --max-memory")
struct StorageCommandTests {
    typealias F = RegistryCLIFixture

    @Test("the store defaults to the cache folder; list and verify report sizes (text and JSON); gc lists, then deletes only with --delete")
    func storeSizesAndGC() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes", cache = dir.path + "/cache"
        // Default place: <cache>/samples (a fresh cache, so the counts are this test's).
        for name in ["giraffe", "person"] {
            let add = try CLIRunner.run(["add", bundles.path(name), "--registry", registry, "--cache", cache,
                                         "--points", "5", "--data-root", F.dataRoot])
            #expect(add.status == 0, "\(add.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: registry + "/.samples"))
        let store = cache + "/samples"
        #expect(FileManager.default.fileExists(atPath: store + "/v1"))

        let list = try CLIRunner.run(["list", "--json", "--registry", registry, "--cache", cache])
        #expect(list.status == 0, "\(list.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [String: Any]
        let sizes = try #require(json["sizes"] as? [String: Any])
        #expect(sizes["sampleStore"] as? String == store)
        #expect((sizes["sampleStoreBytes"] as? Int ?? 0) > 0 && (sizes["registryBytes"] as? Int ?? 0) > 0)
        let text = try CLIRunner.run(["list", "--registry", registry, "--cache", cache])
        #expect(text.stdout.contains("disk: registry") && text.stdout.contains(store), "\(text.stdout)")
        let verify = try CLIRunner.run(["verify", "--json", "--registry", registry, "--cache", cache])
        let verified = try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as! [String: Any]
        #expect((verified["sizes"] as? [String: Any])?["sampleStore"] as? String == store, "\(verify.stdout)")

        // Nothing unused yet.
        var gc = try CLIRunner.run(["gc", "--json", "--registry", registry, "--cache", cache])
        #expect(gc.status == 0, "\(gc.stderr)")
        var report = try JSONSerialization.jsonObject(with: Data(gc.stdout.utf8)) as! [String: Any]
        #expect(report["unusedSampleEntries"] as? Int == 0 && (report["keptSampleEntries"] as? Int ?? 0) > 0)
        #expect(report["unusedCacheEntries"] as? Int == 0)

        // After remove, person's picks are unused: listed by a dry run, deleted with --delete.
        let remove = try CLIRunner.run(["remove", "person", "--registry", registry, "--cache", cache, "--points", "5",
                                        "--data-root", F.dataRoot])
        #expect(remove.status == 0, "\(remove.stderr)")
        let files = { FileManager.default.enumerator(atPath: store)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".h5") }.count }
        let before = files()
        gc = try CLIRunner.run(["gc", "--registry", registry, "--cache", cache])
        #expect(gc.status == 0 && gc.stdout.contains("dry run: nothing deleted"), "\(gc.stdout)")
        #expect(files() == before)
        gc = try CLIRunner.run(["gc", "--json", "--delete", "--samples-only", "--registry", registry, "--cache", cache])
        report = try JSONSerialization.jsonObject(with: Data(gc.stdout.utf8)) as! [String: Any]
        let unused = report["unusedSampleEntries"] as? Int ?? 0
        #expect(unused > 0 && report["deleted"] as? Bool == true && report["cache"] == nil || report["cache"] is NSNull)
        #expect(files() == before - unused)
        // The registry retrains from what is left without re-sampling.
        let retrain = try CLIRunner.run(["retrain", "--registry", registry, "--cache", cache, "--points", "5",
                                         "--data-root", F.dataRoot])
        #expect(retrain.stdout.contains(" 0 re-sampled"), "\(retrain.stdout)")

        // config sample-store inside: later commands use <registry>/.samples.
        let config = try CLIRunner.run(["config", "sample-store", "inside", "--registry", registry, "--cache", cache])
        #expect(config.status == 0 && config.stdout.contains(registry + "/.samples"), "\(config.stdout)\(config.stderr)")
    }

    @Test("retrain --max-memory takes sizes with units, refuses others with an example, and trains the same segmenter when the rows fit")
    func maxMemory() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        #expect(try F.run(["add", bundles.path("giraffe")], registry: registry).status == 0)
        for bad in ["4X", "-1G", "lots"] {
            let result = try F.run(["retrain", "--max-memory", bad], registry: registry)
            #expect(result.status != 0 && result.stderr.contains("4G"), "\(bad): \(result.stderr)")
        }
        let small = try F.run(["retrain", "--max-memory", "10M"], registry: registry)
        #expect(small.status != 0 && small.stderr.contains("256.0 MiB"), "\(small.stderr)")
        let noStore = try F.run(["retrain", "--max-memory", "4G", "--no-sample-store"], registry: registry)
        #expect(noStore.status != 0 && noStore.stderr.contains("--no-sample-store"), "\(noStore.stderr)")

        // The weights (HDF5 object headers carry times, so the files' bytes differ).
        func weights() throws -> [[Float]] {
            let file = try HDF5File.open(registry + "/segmenter.h5")
            defer { file.close() }
            return try ["hidden/kernel", "hidden/bias", "output/kernel", "output/bias", "input/mean", "input/std"]
                .map { try file.readFloats($0).values }
        }
        #expect(try F.run(["retrain"], registry: registry).status == 0)
        let plain = try weights()
        let capped = try F.run(["retrain", "--max-memory", "2G"], registry: registry)
        #expect(capped.status == 0, "\(capped.stderr)")
        #expect(try weights() == plain)
    }
}
