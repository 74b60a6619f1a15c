import Foundation

/// Reads `tags:FILE.csv` (see ``Dataset/open(spec:split:names:)``): columns `path,tags`
/// (plus an optional `split`), no masks.
enum TagsCSVReader {
    static func open(_ csv: String, names: ClassNames) throws(DatasetError) -> (name: String, samples: [DatasetSample]) {
        let table = try CSVTable.read(csv, what: "tags CSV")
        let pathColumn = try table.column("path")
        let tagsColumn = try table.column("tags")
        let splitColumn = table.optionalColumn("split")
        // Said here: an empty dataset would otherwise surface much later as a puzzling
        // consequence (e.g. a negative ratio of 0 when training).
        guard !table.rows.isEmpty else {
            throw .unrecognizedLayout(path: csv, reason: "it has a header line but no rows. Add one line "
                + "per image after the header, e.g. 'images/1.jpg,cat dog'")
        }
        let folder = (csv as NSString).deletingLastPathComponent
        var samples: [DatasetSample] = []
        var seen = Set<String>()
        for row in table.rows {
            let relative = row.fields[pathColumn].trimmingCharacters(in: .whitespaces)
            guard !relative.isEmpty else {
                throw .malformedRow(path: csv, line: row.line, reason: "the 'path' field is empty")
            }
            let imagePath = relative.hasPrefix("/")
                ? relative : URL(fileURLWithPath: folder + "/" + relative).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: imagePath) else {
                throw .missingFile(path: imagePath, listedIn: csv, line: row.line)
            }
            let id = (relative as NSString).deletingPathExtension
            guard seen.insert(id).inserted else { throw .duplicateID(id: id, path: csv, line: row.line) }
            let field = row.fields[tagsColumn]
            let parts = field.contains(";")
                ? field.split(separator: ";") : field.split(whereSeparator: { $0.isWhitespace })
            let tags = Set(parts.map { names.canonical(String($0)) }.filter { !$0.isEmpty })
            let split = splitColumn.map { row.fields[$0].trimmingCharacters(in: .whitespaces) }
            samples.append(DatasetSample(id: id, imagePath: imagePath, tags: tags,
                                         split: split?.isEmpty == false ? split : nil,
                                         source: .none, names: names))
        }
        let name = ((csv as NSString).lastPathComponent as NSString).deletingPathExtension
        return (name, samples)
    }
}
