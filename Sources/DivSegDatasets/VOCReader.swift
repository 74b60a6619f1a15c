import DivSegIO
import Foundation

/// Reads the PASCAL VOC layout behind `voc:DIR` (see ``Dataset/open(spec:split:names:)``).
enum VOCReader {
    static let listFolder = "ImageSets/Segmentation"

    /// Finds `VOC2012` from `dir`: `dir` itself, `dir/VOC2012` or `dir/VOCdevkit/VOC2012`
    /// (the first holding JPEGImages, SegmentationClass or ImageSets).
    static func locateRoot(_ dir: String) throws(DatasetError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .notFound(path: dir, what: "VOC dataset folder")
        }
        for candidate in [dir, dir + "/VOC2012", dir + "/VOCdevkit/VOC2012"] {
            for marker in ["JPEGImages", "SegmentationClass", "ImageSets"]
            where FileManager.default.fileExists(atPath: candidate + "/" + marker) {
                return candidate
            }
        }
        throw .unrecognizedLayout(path: dir, reason: "it has no JPEGImages, SegmentationClass or ImageSets "
            + "folder; pass VOCdevkit/VOC2012 or a folder containing it")
    }

    /// Returns the dataset name and its samples in list order (unsorted).
    static func open(_ dir: String, split: DatasetSplit, spec: String,
                     names: ClassNames) throws(DatasetError) -> (name: String, samples: [DatasetSample]) {
        let root = try locateRoot(dir)
        let lists = splitLists(root)

        // Which ids.
        var ids: [String]
        var requested: String? = nil
        switch split {
        case .all:
            if let trainval = lists["trainval"] {
                ids = try DatasetSplit.readList(trainval).map(\.id)
            } else {
                ids = files(in: root + "/SegmentationClass", ext: ".png")
                if ids.isEmpty { ids = files(in: root + "/JPEGImages", ext: ".jpg") }
            }
        case .named(let name):
            guard let path = lists[name] ?? lists[name.lowercased()] else {
                throw .unknownSplit(split: name, dataset: spec, valid: lists.keys.sorted())
            }
            ids = try DatasetSplit.readList(path).map(\.id)
            requested = name
        case .list(_, let listed):
            ids = listed.map(\.id)
        }

        // Splits of the ids: train.txt / val.txt membership, else the labels CSV.
        var splitOf: [String: String] = [:]
        for name in ["train", "val"] {
            guard let path = lists[name] else { continue }
            for entry in (try? DatasetSplit.readList(path)) ?? [] { splitOf[entry.id] = name }
        }

        let labels = try imageLevelLabels(root: root, alsoIn: dir, names: names)
        let hasXML = FileManager.default.fileExists(atPath: root + "/Annotations")
        var valueNames: [Int: String] = [:]
        for (i, name) in ClassNames.voc.enumerated() { valueNames[i + 1] = names.canonical(name) }

        var samples: [DatasetSample] = []
        samples.reserveCapacity(ids.count)
        for id in ids {
            var maskPath: String? = nil
            for folder in ["SegmentationClass", "SegmentationClassAug"] {
                let path = root + "/" + folder + "/" + id + ".png"
                if FileManager.default.fileExists(atPath: path) { maskPath = path; break }
            }
            let tags: Set<String>
            let xml = root + "/Annotations/" + id + ".xml"
            if hasXML, FileManager.default.fileExists(atPath: xml) {
                tags = try xmlTags(xml, names: names)
            } else if let row = labels[id] {
                tags = row.tags
            } else if let maskPath {
                tags = try maskTags(maskPath, valueNames: valueNames)
            } else {
                tags = []
            }
            let split = splitOf[id] ?? labels[id]?.split ?? requested
            samples.append(DatasetSample(
                id: id, imagePath: root + "/JPEGImages/" + id + ".jpg", tags: tags, split: split,
                source: maskPath.map { .labelPNG(path: $0, valueNames: valueNames, crowd: nil) } ?? .none,
                names: names))
        }
        return ((root as NSString).lastPathComponent, samples)
    }

    /// Split name → list file in ImageSets/Segmentation.
    static func splitLists(_ root: String) -> [String: String] {
        var lists: [String: String] = [:]
        for file in files(in: root + "/" + listFolder, ext: ".txt") {
            lists[file] = root + "/" + listFolder + "/" + file + ".txt"
        }
        return lists
    }

    /// Base names of the files in `folder` ending in `ext`, sorted.
    static func files(in folder: String, ext: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return entries.filter { $0.hasSuffix(ext) }.map { String($0.dropLast(ext.count)) }.sorted()
    }

    /// `image_level_labels.csv` (`image_id,split,width,height,classes`, classes
    /// space-separated) in the VOC2012 folder or the folder given; empty when absent.
    static func imageLevelLabels(root: String, alsoIn dir: String,
                                 names: ClassNames) throws(DatasetError) -> [String: (tags: Set<String>, split: String?)] {
        guard let path = [root, dir].map({ $0 + "/image_level_labels.csv" })
            .first(where: { FileManager.default.fileExists(atPath: $0) }) else { return [:] }
        let table = try CSVTable.read(path, what: "image-level labels CSV")
        let idColumn = try table.column("image_id")
        let classesColumn = try table.column("classes")
        let splitColumn = table.optionalColumn("split")
        var result: [String: (tags: Set<String>, split: String?)] = [:]
        for row in table.rows {
            let id = row.fields[idColumn].trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else {
                throw .malformedRow(path: path, line: row.line, reason: "the 'image_id' field is empty")
            }
            if result[id] != nil { throw .duplicateID(id: id, path: path, line: row.line) }
            let tags = Set(row.fields[classesColumn].split(whereSeparator: { $0.isWhitespace || $0 == ";" })
                .map { names.canonical(String($0)) })
            let split = splitColumn.map { row.fields[$0].trimmingCharacters(in: .whitespaces) }
            result[id] = (tags, split?.isEmpty == false ? split : nil)
        }
        return result
    }

    /// Object names of a VOC annotation XML (`<object><name>…</name>…</object>`), `difficult`
    /// and `truncated` objects included; the `<name>` of `<part>` elements (person layout) is
    /// not an object.
    static func xmlTags(_ path: String, names: ClassNames) throws(DatasetError) -> Set<String> {
        let text = try CSVTable.readText(path, what: "VOC annotation XML")
        var tags = Set<String>()
        var rest = text[...]
        while let open = rest.range(of: "<object>") ?? rest.range(of: "<object ") {
            guard let close = rest.range(of: "</object>", range: open.upperBound..<rest.endIndex) else {
                throw .malformedRow(path: path, line: line(of: open.lowerBound, in: text),
                                    reason: "an <object> element is not closed")
            }
            var body = rest[open.upperBound..<close.lowerBound]
            // Drop <part>…</part> elements, whose <name> is a body part.
            while let partOpen = body.range(of: "<part>"),
                  let partClose = body.range(of: "</part>", range: partOpen.upperBound..<body.endIndex) {
                body = body[body.startIndex..<partOpen.lowerBound] + body[partClose.upperBound...]
            }
            guard let nameOpen = body.range(of: "<name>"),
                  let nameClose = body.range(of: "</name>", range: nameOpen.upperBound..<body.endIndex) else {
                throw .malformedRow(path: path, line: line(of: open.lowerBound, in: text),
                                    reason: "an <object> element has no <name>")
            }
            let name = names.canonical(String(body[nameOpen.upperBound..<nameClose.lowerBound]))
            if !name.isEmpty { tags.insert(name) }
            rest = rest[close.upperBound...]
        }
        return tags
    }

    private static func line(of index: String.Index, in text: String) -> Int {
        text[..<index].reduce(1) { $1.isNewline ? $0 + 1 : $0 }
    }

    /// Tags read from a mask: the classes whose label occurs in it.
    static func maskTags(_ path: String, valueNames: [Int: String]) throws(DatasetError) -> Set<String> {
        let map: LabelMap
        do { map = try ImageDecoder.decodeLabels(contentsOf: path) } catch { throw .unreadableMask(error) }
        var present = [Bool](repeating: false, count: 256)
        for label in map.labels { present[Int(label)] = true }
        return Set(valueNames.compactMap { present[$0.key] ? $0.value : nil })
    }
}
