import DivSegIO
import Foundation
import DivSegTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Files and outputs through the command line (issue #10, cases 1, 2, 3, 12, 14): nothing a
/// user did not name as an output is replaced, special files are refused (never waited on),
/// and clashing outputs are refused before anything is written. Every command runs under
/// `timeout`, so a regression that hangs fails (status 124) instead of hanging the suite.
@Suite("divseg-registry: files and outputs")
struct FileSafetyCommandTests {
    static let images = SharedData.cocoMiniImages + "/"
    static let reference = SharedData.referenceDir + "/"

    /// Runs the CLI under `timeout` (a hang detector only: correct runs end in seconds).
    static func run(_ arguments: [String], in directory: String? = nil) throws -> CLIRunner.Result {
        let quoted = ([CLIRunner.executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let cd = directory.map { "cd '\($0)' && " } ?? ""
        return try CLIRunner.shell(cd + "exec timeout 300 " + quoted.joined(separator: " "))
    }

    static func digest(_ path: String) throws -> String { try FileDigest.sha256(ofFileAt: path) }

    static func kind(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    // MARK: 2, 12 — special files as inputs and outputs

    @Test("features: a FIFO image, /dev/zero and a FIFO --weights are refused at once, named")
    func specialInputs() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.path + "/pipe.jpg"
        #expect(mkfifo(fifo, 0o644) == 0)
        for (image, words) in [(fifo, "named pipe"), ("/dev/zero", "character device")] {
            let result = try Self.run(["features", image, "--out", dir.path + "/f.h5"])
            #expect(result.status == 1, "\(image): status \(result.status) (124 = hung); \(result.stderr)")
            #expect(result.stderr.contains(image) && result.stderr.contains(words), "\(result.stderr)")
        }
        let weights = try Self.run(["features", Self.reference + "000000000025_256x336.png", "--out", dir.path + "/f.h5",
                                    "--weights", fifo])
        #expect(weights.status != 0 && weights.status != 124, "status \(weights.status); \(weights.stderr)")
        #expect(weights.stderr.contains("named pipe"), "\(weights.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/f.h5"))
    }

    @Test("features/segment/localize/evaluate: an output that is a device (via a link) or a FIFO is refused and left as it was")
    func specialOutputs() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let full = dir.path + "/full.h5", fifo = dir.path + "/pipe.h5"
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: "/dev/full")
        #expect(mkfifo(fifo, 0o644) == 0)
        let image = Self.reference + "000000000025_256x336.png"
        for out in [full, fifo] {
            let before = Self.kind(out)
            let result = try Self.run(["features", image, "--out", out])
            #expect(result.status != 0 && result.status != 124, "status \(result.status); \(result.stderr)")
            #expect(result.stderr.contains("not a regular file"), "\(result.stderr)")
            #expect(Self.kind(out) == before, "\(out) was replaced")
        }
        let localize = try Self.run(["localize", "giraffe", image, "--out", full, "--registry", dir.path + "/none"])
        #expect(localize.status != 0 && localize.stderr.contains("not a regular file"), "\(localize.stderr)")
        let evaluate = try Self.run(["evaluate", "--dataset", "tags:" + dir.path + "/none.csv", "--save-json", full])
        #expect(evaluate.status != 0 && evaluate.stderr.contains("not a regular file"), "\(evaluate.stderr)")
        #expect(Self.kind(full) == S_IFLNK)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["full.h5", "pipe.h5"])
    }

    @Test("train: a FIFO tags CSV, and a FIFO image listed in a tags CSV, are refused instead of hanging")
    func fifoDatasetFiles() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csvFifo = dir.path + "/tags.csv"
        #expect(mkfifo(csvFifo, 0o644) == 0)
        let first = try Self.run(["train", "giraffe", "--dataset", "tags:" + csvFifo, "--out", dir.path + "/giraffe"])
        #expect(first.status != 0 && first.status != 124, "status \(first.status); \(first.stderr)")
        #expect(first.stderr.contains("named pipe"), "\(first.stderr)")

        let imageFifo = dir.path + "/pipe.jpg"
        #expect(mkfifo(imageFifo, 0o644) == 0)
        let csv = dir.path + "/rows.csv"
        try "path,tags\n\(imageFifo),giraffe\n\(Self.images)000000000034.jpg,zebra\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let second = try Self.run(["train", "giraffe", "--dataset", "tags:" + csv, "--out", dir.path + "/giraffe",
                                   "--localizer", "mlp", "--hidden", "8"])
        #expect(second.status != 0 && second.status != 124, "status \(second.status); \(second.stderr)")
        #expect(second.stderr.contains("named pipe"), "\(second.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/giraffe"))
    }

    @Test("list/show on a registry whose bundle has localizer.h5 as a directory or a FIFO: that bundle refused by name, the rest usable")
    func damagedLocalizerInRegistry() throws {
        let bundles = try RegistryCLIFixture.bundles.get()
        for damage in ["directory", "fifo"] {
            let dir = try CLIRunner.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let registry = dir.path + "/classes"
            try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: false)
            for name in ["giraffe", "elephant"] { try RegistryCLIFixture.copy(bundles.path(name), to: registry + "/" + name) }
            let localizer = registry + "/giraffe/localizer.h5"
            try FileManager.default.removeItem(atPath: localizer)
            if damage == "directory" {
                try FileManager.default.createDirectory(atPath: localizer, withIntermediateDirectories: false)
            } else {
                #expect(mkfifo(localizer, 0o644) == 0)
            }
            let list = try Self.run(["list", "--registry", registry])
            #expect(list.status == 0, "\(damage): status \(list.status); \(list.stderr)")
            let text = list.stdout + list.stderr
            #expect(text.contains("elephant"))
            #expect(text.contains("giraffe") && text.contains(damage == "directory" ? "a directory" : "named pipe"), "\(text)")
            #expect(!text.contains("NSCocoaErrorDomain"), "\(text)")
            let show = try Self.run(["show", "elephant", "--registry", registry])
            #expect(show.status == 0, "\(show.stderr)")
        }
    }

    // MARK: 3 — clashing outputs

    @Test("segment: an output that is an input, or two inputs with one output, are refused before anything is written")
    func segmentClashes() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let coll = dir.path + "/coll"
        try FileManager.default.createDirectory(atPath: coll + "/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: coll + "/b", withIntermediateDirectories: true)
        let jpeg = Self.images + "000000000025.jpg", png = Self.reference + "000000000025_256x336.png"
        try FileManager.default.copyItem(atPath: png, toPath: coll + "/self.png")
        try FileManager.default.copyItem(atPath: png, toPath: coll + "/a/x.png")
        try FileManager.default.copyItem(atPath: png, toPath: coll + "/b/x.png")
        try FileManager.default.copyItem(atPath: png, toPath: coll + "/x.png")
        try FileManager.default.copyItem(atPath: jpeg, toPath: coll + "/x.jpg")
        try FileManager.default.copyItem(atPath: jpeg, toPath: coll + "/y.jpg")
        try FileManager.default.copyItem(atPath: png, toPath: coll + "/y_overlay.png")
        let before = try RegistryCLIFixture.snapshot(coll)
        let out = dir.path + "/out"
        let cases: [([String], String, String)] = [
            ([coll + "/self.png"], coll, "is the input file"),
            ([coll + "/a/x.png", coll + "/b/x.png"], out, "would both be written"),
            ([coll + "/x.png", coll + "/x.jpg"], out, "would both be written"),
            ([coll + "/y.jpg", coll + "/y_overlay.png"], out, "would both be written"),
            ([coll + "/y_overlay.png", coll + "/y.jpg"], out, "would both be written"),
        ]
        for (inputs, target, words) in cases {
            let result = try Self.run(["segment"] + inputs + ["--out", target, "--registry", dir.path + "/none"])
            #expect(result.status != 0 && result.status != 124, "\(inputs): status \(result.status)")
            #expect(result.stderr.contains(words) && result.stderr.contains("Nothing was written"), "\(inputs): \(result.stderr)")
        }
        #expect(try RegistryCLIFixture.snapshot(coll) == before, "an input was changed")
        #expect(!FileManager.default.fileExists(atPath: out), "an output was written")
    }

    @Test("localize and features: an output that is the input image is refused, the image unchanged")
    func outputIsInput() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.path + "/photo.png"
        try FileManager.default.copyItem(atPath: Self.reference + "000000000025_256x336.png", toPath: image)
        let digest = try Self.digest(image)
        let localize = try Self.run(["localize", "giraffe", image, "--out", "./photo.png", "--registry", dir.path + "/none"], in: dir.path)
        #expect(localize.status != 0 && localize.stderr.contains("is the input file"), "\(localize.stderr)")
        let features = try Self.run(["features", image, "--out", dir.path + "/./photo.png"])
        #expect(features.status != 0 && features.stderr.contains("is the input file"), "\(features.stderr)")
        #expect(try Self.digest(image) == digest)
    }

    // MARK: 1 — train --out

    @Test("train --out: a folder of other files, a file, or a registry is refused at once and left as it was")
    func trainTargets() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.path + "/tags.csv"
        try "path,tags\n\(Self.images)000000000025.jpg,giraffe\n\(Self.images)000000000034.jpg,zebra\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let folder = dir.path + "/mine"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try "keep me".write(toFile: folder + "/notes.txt", atomically: true, encoding: .utf8)
        let file = dir.path + "/passwd"
        try "root:x:0:0".write(toFile: file, atomically: true, encoding: .utf8)
        let registry = dir.path + "/classes"
        try FileManager.default.createDirectory(atPath: registry + "/zebra", withIntermediateDirectories: true)
        try "{}".write(toFile: registry + "/labels.json", atomically: true, encoding: .utf8)
        let before = try RegistryCLIFixture.snapshot(dir.path)
        let cases: [(String, String)] = [(folder, "is not a class bundle"), (file, "is not a class bundle"),
                                         (registry + "/giraffe", "divseg-registry add"), (registry + "/zebra", "divseg-registry add"),
                                         (registry, "divseg-registry add")]
        for (target, words) in cases {
            for force in [false, true] {
                let result = try Self.run(["train", "giraffe", "--dataset", "tags:" + csv, "--out", target] + (force ? ["--force"] : []))
                #expect(result.status != 0 && result.status != 124, "\(target): status \(result.status)")
                #expect(result.stderr.contains(words) && result.stderr.contains(target), "\(target): \(result.stderr)")
            }
        }
        #expect(try RegistryCLIFixture.snapshot(dir.path) == before, "a file was changed")
    }
}
