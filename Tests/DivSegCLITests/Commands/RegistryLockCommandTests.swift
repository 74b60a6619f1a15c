import Foundation
import Testing

/// The registry lock between processes: a change waits for another one, or gives up after
/// --lock-timeout with a clear message; two concurrent changes both happen, one after the other.
@Suite("divseg-registry lock")
struct RegistryLockCommandTests {
    typealias F = RegistryCLIFixture

    @Test("a change waits for the lock holder, or gives up after --lock-timeout with a clear message")
    func waitOrTimeOut() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        #expect(try F.run(["add", bundles.path("giraffe"), "--no-retrain"], registry: registry).status == 0)
        let before = try F.snapshot(registry)

        // Another process holds the lock until the test creates the file `release`
        // (flock(1) takes the same flock(2) lock as divseg-registry).
        let release = dir.path + "/release"
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [registry + "/.lock", "sh", "-c", "while [ ! -e '\(release)' ]; do sleep 0.05; done"]
        try holder.run()
        defer {
            FileManager.default.createFile(atPath: release, contents: nil)
            holder.waitUntilExit()
        }
        usleep(300_000)
        let start = Date()
        let impatient = try F.run(["remove", "giraffe", "--no-retrain", "--lock-timeout", "0.5"], registry: registry)
        #expect(impatient.status != 0)
        #expect(impatient.stderr.contains("is being changed by another command") && impatient.stderr.contains("--lock-timeout"),
                "\(impatient.stderr)")
        #expect(Date().timeIntervalSince(start) >= 0.5)
        #expect(try F.snapshot(registry) == before)

        // A patient one waits, and goes ahead once the holder is done.
        let patient = Process()
        patient.executableURL = CLIRunner.executable
        patient.arguments = ["remove", "giraffe", "--no-retrain", "--lock-timeout", "120", "--registry", registry]
        var env = ProcessInfo.processInfo.environment
        env["DIVSEG_WEIGHTS"] = CLIRunner.sharedRoot + "/models/vgg16_imagenet_notop.h5"
        patient.environment = env
        patient.standardOutput = FileHandle.nullDevice
        patient.standardError = FileHandle.nullDevice
        try patient.run()
        usleep(1_500_000)
        #expect(patient.isRunning, "it waits while the lock is held")
        #expect(try F.snapshot(registry) == before)
        FileManager.default.createFile(atPath: release, contents: nil)
        patient.waitUntilExit()
        #expect(patient.terminationStatus == 0)
        #expect(try F.listing(registry).classes.isEmpty)
    }

    @Test("two add commands started together both succeed, one after the other")
    func concurrentAdds() throws {
        let bundles = try F.bundles.get()
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.path + "/classes"
        try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: true)
        // Two real processes at once; stderr goes to files so that neither blocks on a pipe.
        let processes = try ["giraffe", "elephant"].map { name -> (Process, String) in
            let process = Process()
            process.executableURL = CLIRunner.executable
            process.arguments = ["add", bundles.path(name), "--registry", registry, "--cache", F.cache, "--points", "5",
                                 "--data-root", F.dataRoot]
            var env = ProcessInfo.processInfo.environment
            env["DIVSEG_WEIGHTS"] = CLIRunner.sharedRoot + "/models/vgg16_imagenet_notop.h5"
            process.environment = env
            let log = dir.path + "/\(name).log"
            FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            try process.run()
            return (process, log)
        }
        for (process, log) in processes {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        let listing = try F.listing(registry)
        #expect(listing.classes.keys.sorted() == ["elephant", "giraffe"] && listing.segmenter == "current")
        #expect(try F.run(["verify"], registry: registry).status == 0)
    }
}
