import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

/// What users get from `segment` and `localize`: folders as input, refused name clashes,
/// overlays with a legend, heat maps with a colour bar, exports (masks, probability maps,
/// summaries, COCO results) and `--json`. Runs on a copy of the shipped registry (`classes/`).
@Suite("divseg-registry segment / localize: legends, folders, exports, JSON")
struct SegmentOutputCommandTests {
    /// This repository (Tests/DivSegCLITests/Commands/ → three levels up).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// A temporary folder with a copy of the shipped registry and a `photos/` folder of two
    /// real COCO images (a giraffe scene and a zebra scene), a text file and a sub-folder.
    static func workspace() throws -> String {
        let dir = try CLIRunner.temporaryDirectory().path
        try FileManager.default.copyItem(atPath: repository + "/classes", toPath: dir + "/classes")
        try FileManager.default.createDirectory(atPath: dir + "/photos/more", withIntermediateDirectories: true)
        for id in ["000000000025", "000000000034"] {
            try FileManager.default.copyItem(atPath: SharedData.cocoMiniImages + "/\(id).jpg", toPath: dir + "/photos/\(id).jpg")
        }
        try FileManager.default.copyItem(atPath: SharedData.cocoMiniImages + "/000000000072.jpg",
                                         toPath: dir + "/photos/more/000000000072.jpg")
        try "not an image".write(toFile: dir + "/photos/notes.txt", atomically: true, encoding: .utf8)
        return dir
    }

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func pixel(_ image: Image, _ x: Int, _ y: Int) -> [UInt8] {
        let i = 3 * (y * image.width + x)
        return Array(image.pixels[i..<(i + 3)])
    }

    /// Whether a `side × side` block of exactly `color` is in the image's top-left quarter.
    static func hasBlock(_ image: Image, _ color: [UInt8], side: Int) -> Bool {
        for y in 0..<(image.height / 2) {
            for x in 0..<(image.width / 2) where pixel(image, x, y) == color {
                if (0..<side).allSatisfy({ dy in (0..<side).allSatisfy { dx in
                    x + dx < image.width && y + dy < image.height && pixel(image, x + dx, y + dy) == color } }) {
                    return true
                }
            }
        }
        return false
    }

    /// pycocotools' `rleFrString` and `rleDecode`, written for the test.
    static func decodeRLE(_ counts: String, height: Int, width: Int) -> [UInt8] {
        let s = Array(counts.utf8)
        var runs: [Int] = []
        var p = 0
        while p < s.count {
            var x = 0, k = 0, more = true
            while more {
                let c = Int(s[p]) - 48
                x |= (c & 0x1f) << (5 * k)
                more = c & 0x20 != 0
                p += 1; k += 1
                if !more && c & 0x10 != 0 { x |= -1 << (5 * k) }
            }
            if runs.count > 2 { x += runs[runs.count - 2] }
            runs.append(x)
        }
        var columnMajor: [UInt8] = []
        for (i, run) in runs.enumerated() { columnMajor += [UInt8](repeating: UInt8(i % 2), count: run) }
        var mask = [UInt8](repeating: 0, count: height * width)
        for (k, v) in columnMajor.enumerated() where k < height * width { mask[(k % height) * width + k / height] = v }
        return mask
    }

    @Test("a folder: its images sorted, no sub-folders; classes by area with confidence; overlay with a legend")
    func folderAndLegend() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/out"
        let run = try CLIRunner.run(["segment", dir + "/photos", "--registry", dir + "/classes", "--out", out, "--summary"])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["000000000025.json", "000000000025.png", "000000000025_overlay.png",
                          "000000000034.json", "000000000034.png", "000000000034_overlay.png"])
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix(dir + "/photos/000000000025.jpg: "))
        #expect(!run.stdout.contains(" 0.0 %"), "classes covering 0.0 % are not listed: \(run.stdout)")
        #expect(run.stdout.contains("confidence "))

        let summary = try Self.json(out + "/000000000025.json") as! [String: Any]
        let classes = summary["classes"] as! [[String: Any]]
        let areas = classes.map { $0["area"] as! Double }
        #expect(areas == areas.sorted(by: >), "largest first")
        #expect(abs(areas.reduce(0, +) - 1) < 1e-9)
        let labels = try ImageDecoder.decodeLabels(contentsOf: out + "/000000000025.png")
        for entry in classes {
            let label = UInt8(entry["label"] as! Int)
            #expect(entry["pixels"] as! Int == labels.labels.filter { $0 == label }.count)
            let confidence = entry["meanConfidence"] as! Double
            #expect(confidence > 0 && confidence <= 1)
        }
        // The legend: a dark panel in the top-left corner with a swatch of exactly each
        // listed class's colour (the overlay itself only blends colours at 50 %).
        let overlay = try ImageDecoder.decodeRGB(contentsOf: out + "/000000000025_overlay.png")
        // (640 × 426: text scale 2, so the panel starts at (8, 8) with a 6-pixel padding.)
        #expect(Self.pixel(overlay, 9, 9) == [24, 24, 24])
        let listed = classes.filter { ($0["label"] as! Int) != 0 && ($0["area"] as! Double) >= 0.0005 }
        #expect(!listed.isEmpty)
        for entry in listed {
            let c = ColorPalette.distinct.color(of: UInt8(entry["label"] as! Int))
            #expect(Self.hasBlock(overlay, [c.r, c.g, c.b], side: 4), "swatch of \(entry["name"]!)")
        }
    }

    @Test("two inputs with one file name are refused before anything is written; --recursive reads sub-folders")
    func collisions() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/other", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dir + "/photos/000000000034.jpg", toPath: dir + "/other/000000000034.jpg")
        let out = dir + "/out"
        let clash = try CLIRunner.run(["segment", dir + "/photos", dir + "/other", "--registry", dir + "/classes", "--out", out])
        #expect(clash.status != 0)
        #expect(clash.stderr.contains("000000000034") && clash.stderr.contains("Nothing was written"), "\(clash.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let nested = try CLIRunner.run(["segment", dir + "/photos/more", dir + "/photos", "--recursive", "--json",
                                        "--registry", dir + "/classes", "--out", out])
        #expect(nested.status != 0, "photos/more is given twice (directly and through --recursive)")
        let recursive = try CLIRunner.run(["segment", dir + "/photos", "--recursive", "--json",
                                           "--registry", dir + "/classes", "--out", out])
        #expect(recursive.status == 0, "\(recursive.stderr)")
        let list = try JSONSerialization.jsonObject(with: Data(recursive.stdout.utf8)) as! [[String: Any]]
        #expect(list.map { ($0["image"] as! String).split(separator: "/").last! } == ["000000000025.jpg", "000000000034.jpg", "000000000072.jpg"])
    }

    @Test("exports: masks, probability maps and COCO results agree with the label map")
    func exports() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/out", coco = dir + "/results.json"
        let run = try CLIRunner.run(["segment", dir + "/photos/000000000025.jpg", "--registry", dir + "/classes",
                                     "--out", out, "--masks", "--probabilities", "--coco", coco, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = (try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [[String: Any]])[0]
        let labels = try ImageDecoder.decodeLabels(contentsOf: out + "/000000000025.png")
        let foreground = (summary["classes"] as! [[String: Any]]).filter { ($0["label"] as! Int) != 0 }
        #expect(!foreground.isEmpty)
        let results = try Self.json(coco) as! [[String: Any]]
        #expect(results.count == foreground.count)
        for entry in foreground {
            let name = entry["name"] as! String, label = UInt8(entry["label"] as! Int)
            let expected = labels.labels.map { $0 == label ? UInt8(255) : 0 }
            let mask = try ImageDecoder.decodeRGB(contentsOf: out + "/000000000025_mask_\(name).png")
            #expect(stride(from: 0, to: mask.pixels.count, by: 3).map { mask.pixels[$0] } == expected)
            // Where the class won the argmax, its probability is at least 1 / (number of classes).
            let probability = try ImageDecoder.decodeRGB(contentsOf: out + "/000000000025_prob_\(name).png")
            #expect(probability.width == labels.width && probability.height == labels.height)
            let won = labels.labels.indices.filter { labels.labels[$0] == label }
            #expect(won.allSatisfy { probability.pixels[3 * $0] >= 255 / 23 })

            let result = try #require(results.first { ($0["category_id"] as! Int) == Int(label) })
            #expect(result["image_id"] as! Int == 25)
            #expect(abs((result["score"] as! Double) - (entry["meanConfidence"] as! Double)) < 1e-12)
            let rle = result["segmentation"] as! [String: Any]
            #expect(rle["size"] as! [Int] == [labels.height, labels.width])
            let decoded = Self.decodeRLE(rle["counts"] as! String, height: labels.height, width: labels.width)
            #expect(decoded == labels.labels.map { $0 == label ? 1 : 0 })
        }
    }

    @Test("--tags: only the tagged classes and background are labelled; a misspelt tag is refused before any image")
    func tags() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = dir + "/photos/000000000025.jpg"      // giraffes
        func classes(_ extra: [String]) throws -> [String: Double] {
            let run = try CLIRunner.run(["segment", image, "--registry", dir + "/classes", "--out", dir + "/out", "--json"] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            let summary = (try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [[String: Any]])[0]
            return Dictionary(uniqueKeysWithValues: (summary["classes"] as! [[String: Any]]).map {
                ($0["name"] as! String, $0["area"] as! Double)
            })
        }
        let untagged = try classes([]), tagged = try classes(["--tags", "giraffe"])
        #expect(Set(tagged.keys).isSubset(of: ["background", "giraffe"]))
        // The tagged rules lower background by 12 where the untagged ones lower it by 3.
        #expect(tagged["giraffe", default: 0] >= untagged["giraffe", default: 0])
        #expect(tagged["giraffe", default: 0] > 0.05)

        let typo = try CLIRunner.run(["segment", image, "--registry", dir + "/classes", "--out", dir + "/typo",
                                      "--tags", "giraffe,girafe"])
        #expect(typo.status != 0)
        // The message names the bad tag and lists the registry's classes.
        #expect(typo.stderr.contains("'girafe'") && typo.stderr.contains("elephant"), "\(typo.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/typo/000000000025.png"))

        // --tags-from: each image's own tags from a tags CSV (tags outside the registry ignored);
        // an image the CSV does not list stops the run before anything is written.
        try "path,tags\n000000000025.jpg,giraffe;bowl\n000000000034.jpg,zebra\n"
            .write(toFile: dir + "/photos/tags.csv", atomically: true, encoding: .utf8)
        let fromCSV = try CLIRunner.run(["segment", image, dir + "/photos/000000000034.jpg", "--registry", dir + "/classes",
                                         "--out", dir + "/csv", "--json", "--tags-from", "tags:" + dir + "/photos/tags.csv"])
        #expect(fromCSV.status == 0, "\(fromCSV.stderr)")
        let summaries = try JSONSerialization.jsonObject(with: Data(fromCSV.stdout.utf8)) as! [[String: Any]]
        let names = summaries.map { Set(($0["classes"] as! [[String: Any]]).map { $0["name"] as! String }) }
        #expect(names.count == 2 && names[0].isSubset(of: ["background", "giraffe"]) && names[1] == ["background"])
        let unlisted = try CLIRunner.run(["segment", image, dir + "/photos/more/000000000072.jpg", "--registry", dir + "/classes",
                                          "--out", dir + "/unlisted", "--tags-from", "tags:" + dir + "/photos/tags.csv"])
        #expect(unlisted.status != 0 && unlisted.stderr.contains("000000000072.jpg") && unlisted.stderr.contains("--tags-from"),
                "\(unlisted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/unlisted/000000000025.png"))
    }

    @Test("the CRF is on by default at half size; --no-crf and --no-adjust turn it off, --crf back on")
    func crfDefault() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = dir + "/photos/000000000025.jpg"
        func labels(_ name: String, _ extra: [String]) throws -> LabelMap {
            let run = try CLIRunner.run(["segment", image, "--registry", dir + "/classes", "--out", dir + "/" + name] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            return try ImageDecoder.decodeLabels(contentsOf: dir + "/" + name + "/000000000025.png")
        }
        let byDefault = try labels("default", [])
        #expect(byDefault == (try labels("explicit", ["--crf", "--crf-resolution", "0.5", "--crf-iterations", "10"])))
        #expect(byDefault != (try labels("no-crf", ["--no-crf"])))
        #expect(byDefault != (try labels("every-pixel", ["--crf-resolution", "1"])))
        // --no-adjust is the segmenter's plain argmax: no CRF either, unless asked for.
        let plain = try labels("plain", ["--no-adjust"])
        #expect(plain == (try labels("plain-no-crf", ["--no-adjust", "--no-crf"])))
        #expect(plain != (try labels("plain-crf", ["--no-adjust", "--crf"])))
    }

    @Test("--out defaults to ./divseg-output; localize takes several images and draws a colour bar")
    func defaultsAndLocalize() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let segment = try CLIRunner.run(["segment", "photos/000000000034.jpg", "--registry", "classes"], currentDirectory: dir)
        #expect(segment.status == 0, "\(segment.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/divseg-output/000000000034_overlay.png"))
        let help = try CLIRunner.run(["segment", "--help"])
        #expect(help.stdout.contains("default: divseg-output"))

        let localize = try CLIRunner.run(["localize", "giraffe", "photos", "--registry", "classes", "--json"], currentDirectory: dir)
        #expect(localize.status == 0, "\(localize.stderr)")
        let peaks = try JSONSerialization.jsonObject(with: Data(localize.stdout.utf8)) as! [[String: Any]]
        #expect(peaks.count == 2)
        for peak in peaks {
            let heat = try ImageDecoder.decodeRGB(contentsOf: dir + "/" + (peak["heatMap"] as! String))
            let x = peak["x"] as! Int, y = peak["y"] as! Int
            #expect(x >= 0 && x < heat.width && y >= 0 && y < heat.height, "the peak is in image pixels")
            // The colour bar's panel in the top-right corner.
            #expect(Self.pixel(heat, heat.width - 10, 9) == [24, 24, 24])
        }
        #expect((peaks[0]["heatMap"] as! String).hasSuffix("divseg-output/000000000025_giraffe_heat.png"))
        let text = try CLIRunner.run(["localize", "giraffe", "photos/000000000025.jpg", "--registry", "classes",
                                      "--out", "g.png"], currentDirectory: dir)
        #expect(text.status == 0 && text.stdout.contains("at pixel (x "), "\(text.stdout)\(text.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/g.png"))
    }
}
