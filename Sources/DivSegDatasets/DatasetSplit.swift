import Foundation

/// A parsed `--split` argument: every image, a split name, or a file listing image ids.
enum DatasetSplit: Sendable {
    case all
    case named(String)
    /// Ids in file order (duplicates dropped) with the line each came from.
    case list(path: String, ids: [(id: String, line: Int)])

    /// `nil` → all; an existing file (or anything that looks like a path: contains `/` or
    /// ends in `.txt`/`.csv`) → a list file; otherwise a split name.
    ///
    /// List files: one id per line; the first white-space separated token counts (so VOC's
    /// `ImageSets/Main` lists with a trailing `1`/`-1` work); blank lines and lines starting
    /// with `#` are skipped; a trailing `.jpg`/`.jpeg`/`.png` is removed.
    static func parse(_ split: String?) throws(DatasetError) -> DatasetSplit {
        guard let split else { return .all }
        let trimmed = split.trimmingCharacters(in: .whitespaces)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDirectory)
        let looksLikePath = trimmed.contains("/") || trimmed.hasSuffix(".txt") || trimmed.hasSuffix(".csv")
        if exists && !isDirectory.boolValue {
            return .list(path: trimmed, ids: try readList(trimmed))
        }
        if looksLikePath { throw .notFound(path: trimmed, what: "split list file") }
        return .named(trimmed)
    }

    static func readList(_ path: String) throws(DatasetError) -> [(id: String, line: Int)] {
        let text = try CSVTable.readText(path, what: "split list file")
        var seen = Set<String>()
        var ids: [(id: String, line: Int)] = []
        for (index, raw) in CSVTable.lines(text).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let token = line.split(whereSeparator: { $0.isWhitespace || $0 == "," }).first else { continue }
            let id = stripImageExtension(String(token))
            if seen.insert(id).inserted { ids.append((id, index + 1)) }
        }
        return ids
    }

    static func stripImageExtension(_ name: String) -> String {
        for ext in [".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"] where name.hasSuffix(ext) {
            return String(name.dropLast(ext.count))
        }
        return name
    }

    /// Whether a sample whose dataset split is `sampleSplit` belongs to the named split `name`:
    /// equal, or `train`/`val`/`test` matching a year-suffixed split (`train2017`), or
    /// `trainval` matching both train and val.
    static func matches(_ name: String, _ sampleSplit: String?) -> Bool {
        guard let sampleSplit else { return false }
        let requested = name.lowercased(), actual = sampleSplit.lowercased()
        if requested == actual { return true }
        if requested == "trainval" { return family(actual) == "train" || family(actual) == "val" }
        return family(actual) == requested
    }

    /// `train2017` → `train`; a split without a numeric suffix is its own family.
    static func family(_ split: String) -> String {
        var base = split
        while let last = base.last, last.isNumber { base.removeLast() }
        return base.isEmpty ? split : base
    }

    /// Split names accepted for samples whose splits are `present`.
    static func validNames(for present: Set<String>) -> [String] {
        var names = Set(present)
        for split in present { names.insert(family(split)) }
        let families = Set(present.map(family))
        if families.contains("train") && families.contains("val") { names.insert("trainval") }
        return names.sorted()
    }

    /// Applies the split to samples that carry their own split (COCO, tags CSV). A list file
    /// must only name ids of `samples`.
    func select(_ samples: [DatasetSample], dataset: String) throws(DatasetError) -> [DatasetSample] {
        switch self {
        case .all:
            return samples
        case .named(let name):
            let valid = Self.validNames(for: Set(samples.compactMap(\.split).map { $0.lowercased() }))
            guard valid.contains(name.lowercased()) else {
                throw .unknownSplit(split: name, dataset: dataset, valid: valid)
            }
            return samples.filter { Self.matches(name, $0.split) }
        case .list(let path, let ids):
            var byID: [String: DatasetSample] = [:]
            for sample in samples { byID[sample.id] = sample }
            var selected: [DatasetSample] = []
            for (id, line) in ids {
                guard let sample = byID[id] else { throw .unknownID(id: id, path: path, line: line) }
                selected.append(sample)
            }
            return selected
        }
    }
}
