import DivSegIO
import Foundation

/// `corpus.csv` of a bundle: the images its localizer was trained on, with every tag the
/// source dataset gives (canonical names), the path relative to the data root and the
/// image's SHA-256. Header: `path,tags,sha256`; tags are `;`-separated.
///
/// ```swift
/// let corpus = try CorpusFile.read(from: "classes/giraffe/corpus.csv")
/// let images = corpus.entries.map { root + "/" + $0.path }
/// ```
public struct CorpusFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable, Hashable {
        public var path: String
        public var tags: [String]
        public var sha256: String
        public init(path: String, tags: [String], sha256: String) {
            self.path = path; self.tags = tags.sorted(); self.sha256 = sha256
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    public static let header = "path,tags,sha256"

    /// CSV text (fields quoted only when they contain a comma, quote or newline).
    public func csv() -> String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        return ([CorpusFile.header] + entries.map { e in
            [field(e.path), field(e.tags.joined(separator: ";")), e.sha256].joined(separator: ",")
        }).joined(separator: "\n") + "\n"
    }

    /// Parses `corpus.csv`; `bundle` names the bundle in errors.
    public static func read(from path: String, bundle: String? = nil) throws -> CorpusFile {
        let owner = bundle ?? (path as NSString).deletingLastPathComponent
        let bytes: [UInt8]
        do throws(FileAccessError) { bytes = try RegularFile.readAll(path, limit: maxFileBytes) } catch {
            if case .notFound = error { throw BundleError.missingFile(bundle: owner, file: "corpus.csv") }
            throw BundleError.badCorpus(bundle: owner, detail: error.reason)
        }
        let text = try decodeUTF8(bytes, owner: owner)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard let first = lines.first, first.trimmingCharacters(in: .whitespaces) == header else {
            throw BundleError.badCorpus(bundle: owner, detail: "the first line must be '\(header)'")
        }
        lines.removeFirst()
        var entries: [Entry] = []
        for (offset, line) in lines.enumerated() {
            let fields = splitCSV(line)
            guard fields.count == 3, !fields[0].isEmpty else {
                throw BundleError.badCorpus(bundle: owner, detail: "line \(offset + 2) needs 3 fields: path,tags,sha256")
            }
            let tags = fields[1].split(separator: ";").map { String($0) }.filter { !$0.isEmpty }
            entries.append(Entry(path: fields[0], tags: tags, sha256: fields[2]))
        }
        return CorpusFile(entries: entries)
    }

    /// A corpus lists at most a few hundred thousand images; past this it is not a corpus.
    public static let maxFileBytes = 256 << 20

    /// Strict UTF-8: a bad byte is reported with its line and byte offset instead of being
    /// taken for a missing file (or silently replaced).
    static func decodeUTF8(_ bytes: [UInt8], owner: String) throws -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Find the first invalid sequence by decoding scalar by scalar.
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0, line = 1
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" { line += 1 }
                offset += UTF8.width(scalar)
            case .emptyInput:
                return String(decoding: bytes, as: UTF8.self)
            case .error:
                let byte = offset < bytes.count ? String(bytes[offset], radix: 16, uppercase: true) : "?"
                throw BundleError.badCorpus(bundle: owner, detail: "it is not UTF-8 text: line \(line), byte "
                    + "offset \(offset) (0x\(byte)) is not valid UTF-8; save the file as UTF-8")
            }
        }
    }

    static func splitCSV(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var iterator = Array(line).makeIterator()
        while let ch = iterator.next() {
            if quoted {
                if ch == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else {
                            quoted = false
                            if next == "," { fields.append(current); current = "" } else { current.append(next) }
                        }
                    } else { quoted = false }
                } else { current.append(ch) }
            } else if ch == "\"" { quoted = true } else if ch == "," {
                fields.append(current); current = ""
            } else { current.append(ch) }
        }
        fields.append(current)
        return fields
    }
}
