import DivSegCore
import DivSegIO
import Foundation

/// The confusion matrix of one shard of an evaluation (`evaluate --shard i/n --json-out
/// part-i.json`), with what is needed to merge the shards into the one-process result
/// (`evaluate --merge part-*.json`): the counts are integers, so the merged matrix — and the
/// scores computed from it — equal a one-process evaluation bit for bit.
///
/// The JSON file holds `format`, `shard` (`"i/n"`), `run` (what the shards must agree on:
/// dataset, split, limit, segmenter digest, CRF settings), `images`, `classes`, `matrix`
/// (``ConfusionMatrix``'s JSON) and `scores` (this shard's own ``SegmentationScores/Summary``,
/// absent when it counted no pixel).
///
/// ```swift
/// let parts = try paths.map { (path: $0, part: try EvaluationPart.read(from: $0)) }
/// let merged = try EvaluationPart.merge(parts)
/// print(try SegmentationScores(matrix: merged.matrix, classNames: merged.classes).table())
/// ```
public struct EvaluationPart: Sendable, Equatable, Codable {
    /// The `format` of part files.
    public static let formatName = "divseg-evaluation-part-1"

    public var format: String
    /// Which shard this is; ``Shard/whole`` for a merged result.
    public var shard: Shard
    /// Settings every shard of one evaluation must share (compared by ``merge(_:)``).
    public var run: [String: String]
    /// Images evaluated in this shard.
    public var images: Int
    /// Class names, in label order (the segmenter's classes).
    public var classes: [String]
    public var matrix: ConfusionMatrix
    /// This shard's own scores, for reading the file; nil when it counted no pixel.
    public var scores: SegmentationScores.Summary?

    /// A part for `matrix` (labels in the order of `classes`); its own scores are computed when defined.
    public init(shard: Shard, run: [String: String], images: Int, classes: [String], matrix: ConfusionMatrix) {
        self.format = Self.formatName
        self.shard = shard
        self.run = run
        self.images = images
        self.classes = classes
        self.matrix = matrix
        self.scores = matrix.countedPixels > 0 ? (try? SegmentationScores(matrix: matrix, classNames: classes))?.summary : nil
    }

    /// Pretty-printed JSON with sorted keys (reproducible bytes).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }

    /// Reads a part file (at most 64 MB), checking its format and shape.
    ///
    /// - Throws: ``EvaluationPartError/unreadable(path:reason:)``.
    public static func read(from path: String) throws(EvaluationPartError) -> EvaluationPart {
        let bytes: [UInt8]
        do throws(FileAccessError) { bytes = try RegularFile.readAll(path, limit: 64 << 20) } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
        let part: EvaluationPart
        do { part = try JSONDecoder().decode(EvaluationPart.self, from: Data(bytes)) } catch {
            throw .unreadable(path: path, reason: "not an evaluation part written by `evaluate --shard … --json-out` (\(Self.decodingReason(error)))")
        }
        guard part.format == formatName else {
            throw .unreadable(path: path, reason: "its format is '\(part.format)', expected '\(formatName)'")
        }
        guard part.classes.count == part.matrix.classCount else {
            throw .unreadable(path: path, reason: "\(part.classes.count) class names for a \(part.matrix.classCount)-class matrix")
        }
        guard part.images >= 0 else { throw .unreadable(path: path, reason: "a negative image count") }
        return part
    }

    /// Sums the parts of one evaluation: all of one run and class list, every shard `1…n` of
    /// one count exactly once. The result is a whole-stage part (``Shard/whole``).
    ///
    /// - Throws: ``EvaluationPartError`` naming the files that disagree, a shard given twice
    ///   or the shards missing.
    public static func merge(_ parts: [(path: String, part: EvaluationPart)]) throws(EvaluationPartError) -> EvaluationPart {
        guard let (firstPath, first) = parts.first else { throw .noParts }
        var seen: [Int: String] = [:]
        var matrix = ConfusionMatrix(classCount: first.matrix.classCount)
        var images = 0
        for (path, part) in parts {
            guard part.shard.count == first.shard.count else {
                throw .mismatch(path: path, what: "shard count", value: String(part.shard.count),
                                otherPath: firstPath, otherValue: String(first.shard.count))
            }
            guard part.classes == first.classes else {
                throw .mismatch(path: path, what: "classes", value: part.classes.joined(separator: ","),
                                otherPath: firstPath, otherValue: first.classes.joined(separator: ","))
            }
            for key in Set(part.run.keys).union(first.run.keys).sorted() where part.run[key] != first.run[key] {
                throw .mismatch(path: path, what: key, value: part.run[key] ?? "(none)",
                                otherPath: firstPath, otherValue: first.run[key] ?? "(none)")
            }
            if let other = seen[part.shard.index] { throw .duplicateShard(part.shard, path: path, otherPath: other) }
            seen[part.shard.index] = path
            do throws(EvaluationError) { try matrix.merge(part.matrix) } catch {
                throw .unreadable(path: path, reason: error.description)
            }
            images += part.images
        }
        let missing = (1...first.shard.count).filter { seen[$0] == nil }
        guard missing.isEmpty else { throw .missingShards(missing, count: first.shard.count) }
        return EvaluationPart(shard: .whole, run: first.run, images: images, classes: first.classes, matrix: matrix)
    }

    private static func decodingReason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no '\(key.stringValue)'"
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)"
        }
    }
}
