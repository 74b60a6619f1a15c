import Foundation

/// Reads `tags:FILE.csv` (see ``Dataset/open(spec:split:names:)``): columns `path,tags`
/// (plus an optional `split`), no masks. Fields follow RFC 4180 (``CSVTable``): comma
/// separated, double quotes around a field that holds a comma. Paths are relative to the CSV's
/// folder unless absolute. The tags field lists class names separated by `;` (names may then
/// hold spaces: `potted plant;vase`), else by `,` (a quoted `"toilet, sink"`), else by
/// whitespace (`cat dog`); a tag with any other character than letters, digits, spaces, `-`
/// and `_` is refused with its line.
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
            let parts = field.contains(";") ? field.split(separator: ";")
                : field.contains(",") ? field.split(separator: ",") : field.split(whereSeparator: { $0.isWhitespace })
            let raw = parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let bad = raw.first(where: { tag in
                !tag.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || " -_".unicodeScalars.contains($0) }
            }) {
                throw .malformedRow(path: csv, line: row.line, reason: "the tag '\(bad)' is not a class name (letters, "
                    + "digits, spaces, '-' and '_'); separate tags with ';' (or ',' inside a quoted field, or spaces)")
            }
            let tags = Set(raw.map { names.canonical($0) }.filter { !$0.isEmpty })
            let split = splitColumn.map { row.fields[$0].trimmingCharacters(in: .whitespaces) }
            samples.append(DatasetSample(id: id, imagePath: imagePath, tags: tags,
                                         split: split?.isEmpty == false ? split : nil,
                                         source: .none, names: names))
        }
        let name = ((csv as NSString).lastPathComponent as NSString).deletingPathExtension
        return (name, samples)
    }
}
