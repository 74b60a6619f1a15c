import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The sharded stages through the command line on real coco-mini images: `features`,
/// `retrain --sample-only` and `evaluate` split into shards give exactly the one-process
/// results (confusion matrices, sample store, segmenter), shards run at once on one registry
/// without its lock, and the shard comes from `--shard` or a cluster job's environment.
@Suite("divseg-registry sharded stages", .serialized)
struct ShardedStagesCommandTests {
    typealias F = RegistryCLIFixture
    let dataset = "coco:" + SharedData.cocoMini

    /// Entries of a feature cache or sample store: relative path of every `.h5` file.
    private func entries(_ directory: String) -> Set<String> {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var result: Set<String> = []
        while let name = enumerator.nextObject() as? String {
            if name.hasSuffix(".h5") { result.insert(name) }
        }
        return result
    }

    /// A summed matrix (`matrix.counts`, `matrix.ignoredPixels`) of part files.
    private func matrix(_ paths: [String]) throws -> (counts: [Int64], ignored: Int64, images: Int) {
        var counts: [Int64] = [], ignored: Int64 = 0, images = 0
        for path in paths {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            let m = json["matrix"] as! [String: Any]
            let c = (m["counts"] as! [NSNumber]).map(\.int64Value)
            counts = counts.isEmpty ? c : zip(counts, c).map { $0 + $1 }
            ignored += (m["ignoredPixels"] as! NSNumber).int64Value
            images += (json["images"] as! NSNumber).intValue
        }
        return (counts, ignored, images)
    }

    @Test("features --shard i/n fills one cache: every image computed by exactly one shard")
    func featuresShards() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = dir.path + "/cache"
        var computed: [Int] = []
        for index in 1...3 {
            let result = try CLIRunner.run(["features", "--dataset", dataset, "--split", "val", "--limit", "5",
                                            "--shard", "\(index)/3", "--cache", cache])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("shard \(index)/3: \(index == 3 ? 1 : 2) of 5 images"), "\(result.stderr)")
            let match = result.stdout.firstMatch(of: /: (\d+) computed, 0 recomputed, 0 already there/)
            computed.append(match.flatMap { Int($0.1) } ?? -1)
        }
        #expect(computed == [2, 2, 1], "round-robin shards of 5 images")
        // Only the compact state (≈0.35 MB per image), no 17.5 MB full entry.
        #expect(entries(cache).count == 5 && entries(cache).allSatisfy { $0.hasSuffix(".state.h5") }, "\(entries(cache))")
        // The whole stage afterwards finds every image cached.
        let whole = try CLIRunner.run(["features", "--dataset", dataset, "--split", "val", "--limit", "5", "--cache", cache])
        #expect(whole.status == 0 && whole.stdout.contains("0 computed, 0 recomputed, 5 already there"), "\(whole.stdout)\(whole.stderr)")
        // --full adds the full entries, cut into states without computing these again.
        let full = try CLIRunner.run(["features", "--dataset", dataset, "--split", "val", "--limit", "2", "--cache", cache, "--full"])
        #expect(full.status == 0 && full.stdout.contains("2 computed"), "\(full.stdout)\(full.stderr)")
        #expect(entries(cache).count == 7 && entries(cache).filter { !$0.hasSuffix(".state.h5") }.count == 2)
    }

    @Test("the shard comes from a Slurm array or a Kubernetes Indexed Job; --shard beats both; bad values are refused")
    func environmentShards() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = SharedData.referenceDir
        let images = SharedData.referenceIDs.map { "\(reference)/\($0)_256x336.png" }
        let names = SharedData.referenceIDs.map { "\($0)_256x336.h5" }
        // --array=4-6: task id 5 is the second of three.
        let slurm = ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_COUNT": "3"]
        let fromSlurm = try CLIRunner.run(["features"] + images + ["--out", dir.path + "/slurm"], environment: slurm)
        #expect(fromSlurm.status == 0, "\(fromSlurm.stderr)")
        #expect(fromSlurm.stderr.contains("shard 2/3 from the environment (Slurm job array)"), "\(fromSlurm.stderr)")
        #expect(entries(dir.path + "/slurm") == [names[1]])
        let kubernetes = ["JOB_COMPLETION_INDEX": "2", "DIVSEG_SHARD_COUNT": "3"]
        let fromJob = try CLIRunner.run(["features"] + images + ["--out", dir.path + "/k8s"], environment: kubernetes)
        #expect(fromJob.status == 0, "\(fromJob.stderr)")
        #expect(entries(dir.path + "/k8s") == [names[2]])
        let explicit = try CLIRunner.run(["features"] + images + ["--out", dir.path + "/explicit", "--shard", "1/1"], environment: slurm)
        #expect(explicit.status == 0, "\(explicit.stderr)")
        #expect(entries(dir.path + "/explicit") == Set(names))

        let broken = try CLIRunner.run(["features"] + images + ["--out", dir.path + "/broken"],
                                       environment: ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4"])
        #expect(broken.status != 0)
        #expect(broken.stderr.contains("SLURM_ARRAY_TASK_COUNT (unset)") && broken.stderr.contains("--shard"), "\(broken.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/broken"))
        for bad in ["0/3", "4/3", "1-3"] {
            let refused = try CLIRunner.run(["features"] + images + ["--out", dir.path + "/bad", "--shard", bad])
            #expect(refused.status != 0 && refused.stderr.contains("'\(bad)'"), "\(bad): \(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/bad"))
    }

    @Test("evaluate --shard i/n parts merge into the one-process confusion matrix and scores")
    func evaluateMerge() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let common = ["evaluate", "--registry", SharedData.shippedRegistry, "--dataset", dataset, "--split", "val",
                      "--limit", "7", "--cache", F.cache]
        let one = try CLIRunner.run(common + ["--json-out", dir.path + "/whole.json"])
        #expect(one.status == 0, "\(one.stderr)")
        let single = try CLIRunner.run(common + ["--shard", "1/1", "--json-out", dir.path + "/single.json"])
        #expect(single.status == 0, "\(single.stderr)")
        var parts: [String] = []
        for index in 1...3 {
            let path = dir.path + "/part-\(index).json"
            let result = try CLIRunner.run(common + ["--shard", "\(index)/3", "--json-out", path])
            #expect(result.status == 0, "\(result.stderr)")
            parts.append(path)
        }
        let summed = try matrix(parts), reference = try matrix([dir.path + "/single.json"])
        #expect(summed.counts == reference.counts && summed.ignored == reference.ignored)
        #expect(summed.images == 7 && reference.images == 7)
        #expect(summed.counts.reduce(0, +) > 0)

        let merged = try CLIRunner.run(["evaluate", "--merge"] + parts.reversed() + ["--json-out", dir.path + "/merged.json"])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/merged.json"))
                == Data(contentsOf: URL(fileURLWithPath: dir.path + "/whole.json")), "merged scores equal one process's, byte for byte")
        #expect(merged.stdout == one.stdout, "the same table")

        let missing = try CLIRunner.run(["evaluate", "--merge", parts[0], parts[2]])
        #expect(missing.status != 0 && missing.stderr.contains("2/3 is missing"), "\(missing.stderr)")
        let mixed = try CLIRunner.run(["evaluate", "--merge", parts[0], dir.path + "/single.json"])
        #expect(mixed.status != 0 && mixed.stderr.contains("shard count"), "\(mixed.stderr)")
        // A shard made with other localizer-map weight is another run, not a missing shard.
        let otherWeight = dir.path + "/part-2-w0.json"
        let w0 = try CLIRunner.run(common + ["--shard", "2/3", "--localizer-weight", "0", "--json-out", otherWeight])
        #expect(w0.status == 0, "\(w0.stderr)")
        let unlike = try CLIRunner.run(["evaluate", "--merge", parts[0], otherWeight, parts[2]])
        #expect(unlike.status != 0 && unlike.stderr.contains("localizerWeight"), "\(unlike.stderr)")
        let noOut = try CLIRunner.run(common + ["--shard", "2/3"])
        #expect(noOut.status != 0 && noOut.stderr.contains("--json-out"), "\(noOut.stderr)")
    }

    @Test("retrain --sample-only shards, run at once while the registry is locked, then retrain: the one-process store and segmenter")
    func sampleOnlyShards() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = dir.path + "/one", sharded = dir.path + "/sharded"
        for name in ["giraffe", "elephant"] {
            let add = try F.run(["add", bundles.path(name), "--no-retrain"], registry: one)
            #expect(add.status == 0, "\(add.stderr)")
        }
        try F.copy(one, to: sharded)
        let whole = try F.run(["retrain", "--json"], registry: one)
        #expect(whole.status == 0, "\(whole.stderr)")
        let wholeReport = try JSONSerialization.jsonObject(with: Data(whole.stdout.utf8)) as? [String: Any]
        let images = try #require((wholeReport?["retraining"] as? [String: Any])?["images"] as? Int)
        #expect(images > 3)

        // The three shards at once, while another process holds the registry's mutation lock:
        // sampling must neither wait for it nor take it.
        let lockPath = sharded + "/.lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        #expect(descriptor >= 0 && flock(descriptor, LOCK_EX | LOCK_NB) == 0, "the test holds the registry's mutation lock")
        var holding = true
        defer { if holding { close(descriptor) } }
        // Started together, each writing its output to files (no pipe to drain).
        var shards: [(Process, String)] = []
        for index in 1...3 {
            let process = Process()
            process.executableURL = CLIRunner.executable
            process.arguments = ["retrain", "--sample-only", "--shard", "\(index)/3", "--lock-timeout", "0", "--json",
                                 "--registry", sharded, "--cache", F.cache, "--sample-store", "inside", "--points", "5",
                                 "--data-root", F.dataRoot]
            process.environment = CLIRunner.environment()
            let output = dir.path + "/shard-\(index)"
            FileManager.default.createFile(atPath: output + ".out", contents: nil)
            FileManager.default.createFile(atPath: output + ".err", contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: output + ".out")
            process.standardError = FileHandle(forWritingAtPath: output + ".err")
            try process.run()
            shards.append((process, output))
        }
        var results: [CLIRunner.Result] = []
        for (process, output) in shards {
            process.waitUntilExit()
            results.append(CLIRunner.Result(status: process.terminationStatus,
                                            stdout: try String(contentsOfFile: output + ".out", encoding: .utf8),
                                            stderr: try String(contentsOfFile: output + ".err", encoding: .utf8)))
        }
        let blocked = try F.run(["retrain", "--lock-timeout", "0"], registry: sharded)
        #expect(blocked.status != 0, "a full retrain needs the lock, which is held")
        close(descriptor)
        holding = false
        var resampled = 0, shardImages = 0
        for result in results {
            #expect(result.status == 0, "\(result.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
            resampled += json["imagesResampled"] as! Int
            shardImages += json["shardImages"] as! Int
            #expect(json["trainingImages"] as? Int == images)
        }
        #expect(shardImages == images && resampled == images, "each image sampled by exactly one shard")

        let final = try F.run(["retrain", "--json"], registry: sharded, dataRoot: false)
        #expect(final.status == 0, "\(final.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(final.stdout.utf8)) as? [String: Any]
        let retraining = report?["retraining"] as? [String: Any]
        #expect(retraining?["imagesResampled"] as? Int == 0 && retraining?["imagesReused"] as? Int == images,
                "the final retrain finds every pick stored: \(final.stdout)")
        // The weights, bit for bit (the files' bytes also hold HDF5 object times).
        let a = try HDF5File.open(one + "/segmenter.h5"), b = try HDF5File.open(sharded + "/segmenter.h5")
        defer { a.close(); b.close() }
        for dataset in ["hidden/kernel", "hidden/bias", "output/kernel", "output/bias", "input/mean", "input/std"] {
            let (x, y) = (try a.readFloats(dataset), try b.readFloats(dataset))
            #expect(x.shape == y.shape && x.values.map(\.bitPattern) == y.values.map(\.bitPattern),
                    "\(dataset): the segmenter of sharded sampling is the one-process segmenter, bit for bit")
        }
        let (storeOne, storeSharded) = (one + "/.samples", sharded + "/.samples")
        #expect(!entries(storeOne).isEmpty && entries(storeOne) == entries(storeSharded))
        for entry in entries(storeOne) {
            let a = try HDF5File.open(storeOne + "/" + entry), b = try HDF5File.open(storeSharded + "/" + entry)
            defer { a.close(); b.close() }
            for dataset in ["global", "locations", "features"] where a.contains(dataset) {
                #expect(try a.readFloats(dataset).values == b.readFloats(dataset).values, "\(entry) \(dataset)")
            }
        }
    }
}
