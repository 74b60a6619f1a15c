import CSV
import DivSegIO
import Foundation

/// The dataset files' CSV: a header line, then one record per line.
///
/// Accepts LF and CRLF line ends, a UTF-8 byte-order mark, blank lines (skipped) and
/// RFC 4180 quoting (`"a, b"`, `""` for a quote) within a line, split into fields by the
/// CSV.swift package; a quoted field spanning lines is refused. Lines are cut here so that
/// every record keeps its 1-based line number for error messages.
struct CSVTable {
    struct Row {
        /// 1-based line number in the file (the header is line 1).
        var line: Int
        var fields: [String]
    }

    let path: String
    let header: [String]
    let rows: [Row]

    /// Reads and splits `path`; every row must have exactly as many fields as the header.
    static func read(_ path: String, what: String) throws(DatasetError) -> CSVTable {
        let text = try readText(path, what: what)
        var lines = Self.lines(text)
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
        guard let headerIndex = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw .malformedRow(path: path, line: 1, reason: "the file is empty; it needs a header line")
        }
        let header = try split(lines[headerIndex], path: path, line: headerIndex + 1)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var rows: [Row] = []
        for index in (headerIndex + 1)..<lines.count {
            let raw = lines[index]
            if raw.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = try split(raw, path: path, line: index + 1)
            guard fields.count == header.count else {
                var reason = "it has \(fields.count) field\(fields.count == 1 ? "" : "s") but the header has \(header.count)"
                if fields.count > header.count {
                    reason += " (separate tags with ';', or quote a field that contains a comma)"
                }
                throw .malformedRow(path: path, line: index + 1, reason: reason)
            }
            rows.append(Row(line: index + 1, fields: fields))
        }
        return CSVTable(path: path, header: header, rows: rows)
    }

    /// The index of a required column (case-insensitive).
    func column(_ name: String) throws(DatasetError) -> Int {
        guard let index = header.firstIndex(of: name.lowercased()) else {
            throw .missingColumn(path: path, column: name, header: header)
        }
        return index
    }

    /// The index of an optional column (case-insensitive).
    func optionalColumn(_ name: String) -> Int? {
        header.firstIndex(of: name.lowercased())
    }

    /// The whole file as UTF-8 text.
    static func readText(_ path: String, what: String) throws(DatasetError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .notFound(path: path, what: what)
        }
        // Regular files only (a FIFO would block, a device never end), size checked first.
        let data: [UInt8]
        do throws(FileAccessError) { data = try RegularFile.readAll(path, limit: 1 << 30) } catch {
            throw .malformedRow(path: path, line: 1, reason: "the file cannot be read: \(error.reason)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw .malformedRow(path: path, line: 1, reason: "the file is not UTF-8 text")
        }
        return text
    }

    /// The lines of `text`, split at LF with a CR before it removed (CRLF files), scanning
    /// bytes rather than Characters ("\r\n" is a single Character in Swift).
    static func lines(_ text: String) -> [Substring] {
        let utf8 = text.utf8
        var result: [Substring] = []
        var start = utf8.startIndex
        func line(to end: String.Index) -> Substring {
            var end = end
            if end > start, utf8[utf8.index(before: end)] == 13 { end = utf8.index(before: end) }
            return text[start..<end]
        }
        var i = start
        while i != utf8.endIndex {
            if utf8[i] == 10 {
                result.append(line(to: i))
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        result.append(line(to: utf8.endIndex))
        return result
    }

    /// Splits one line into fields (RFC 4180 quoting, by CSV.swift). A line with an odd
    /// number of double quotes has a quoted field that does not end on it: refused, since
    /// the rest of the file would otherwise be read as that one field.
    static func split(_ line: Substring, path: String, line number: Int) throws(DatasetError) -> [String] {
        let quotes = line.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\"") ? 1 : 0) }
        if quotes % 2 == 1 {
            throw .malformedRow(path: path, line: number, reason: "a quoted field is not closed on this line")
        }
        guard let reader = try? CSVReader(string: String(line), hasHeaderRow: false, trimFields: false),
              let fields = reader.next() else {
            return [""]
        }
        return fields
    }
}
