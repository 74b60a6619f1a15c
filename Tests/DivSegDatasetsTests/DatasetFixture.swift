import DivSegDatasets
import Foundation

/// A temporary folder for dataset tests, removed by `remove()`, plus small writers.
struct DatasetFixture {
    let root: String

    init(_ label: String = "ds") throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("divseg-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `text` at `relative` (folders created); returns the absolute path.
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, Data(text.utf8))
    }

    @discardableResult
    func write(_ relative: String, _ data: Data) throws -> String {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A symbolic link at `relative` pointing to `target`.
    func link(_ relative: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: root + "/" + relative, withDestinationPath: target)
    }

    /// The absolute, standardised path of something in the fixture, as `Dataset` reports it.
    func path(_ relative: String) -> String {
        URL(fileURLWithPath: root + "/" + relative).standardizedFileURL.path
    }

    /// COCO's compressed RLE string for run lengths (pycocotools `rleToString`), so tests can
    /// write compressed annotations without pycocotools.
    static func compressedRLE(_ counts: [Int]) -> String {
        var out = ""
        for i in 0..<counts.count {
            var x = counts[i]
            if i > 2 { x -= counts[i - 2] }
            var more = true
            while more {
                var c = x & 0x1f
                x >>= 5
                more = (c & 0x10) != 0 ? x != -1 : x != 0
                if more { c |= 0x20 }
                out.unicodeScalars.append(UnicodeScalar(UInt8(c + 48)))
            }
        }
        return out
    }

    /// Column-major run lengths (0s first) of a row-major boolean mask.
    static func runs(_ mask: [Bool], width: Int, height: Int) -> [Int] {
        var counts: [Int] = []
        var current = false
        var run = 0
        for x in 0..<width {
            for y in 0..<height {
                let on = mask[y * width + x]
                if on != current { counts.append(run); run = 0; current = on }
                run += 1
            }
        }
        counts.append(run)
        return counts
    }
}
