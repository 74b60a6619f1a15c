import ArgumentParser
import DivSegRegistry
import Foundation

/// What every `--json` flag prints: one JSON document on standard output, keys sorted, with
/// nothing else on standard output (warnings and progress go to standard error).
enum JSONOutput {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func print(_ value: some Encodable) throws {
        Swift.print(String(decoding: try encoder().encode(value), as: UTF8.self))
    }
}

extension JSONOutput {
    /// `--json PATH`, the old spelling of `baseline-cam` and `diagnose`, leaves PATH as a stray
    /// argument now that `--json` is a flag: refused with the new spelling, nothing written.
    static func refuseOldPathSpelling(_ unexpected: [String]) throws {
        guard let first = unexpected.first else { return }
        throw ValidationError("Unexpected argument '\(first)'. --json is a flag (JSON on standard output, as on "
            + "every command); to write the JSON to a file use --json-out \(first).")
    }
}

/// What `add`, `remove` and `retrain` print with `--json`.
struct ChangeOutput: Encodable {
    struct Retraining: Encodable {
        var images: Int
        var points: Int
        var samplingSeconds: Double
        var trainingSeconds: Double
        var imagesReused: Int
        var imagesResampled: Int
        var picksReused: Int
        var picksRecomputed: Int
    }
    var change: String
    var className: String?
    var label: Int?
    var registry: String
    var classes: [String]
    var segmenter: String
    var segmenterPath: String
    var retraining: Retraining?
    var seconds: Double
    var summary: String

    init(_ report: ChangeReport) {
        switch report.change {
        case .added(let name): (change, className) = ("added", name)
        case .removed(let name): (change, className) = ("removed", name)
        case .retrained: (change, className) = ("retrained", nil)
        }
        label = report.label
        registry = report.registry.directory
        classes = report.registry.bundles.map(\.name)
        segmenter = "\(report.registry.segmenterStatus)"
        segmenterPath = report.registry.segmenterPath
        retraining = report.retraining.map { r in
            Retraining(images: r.images, points: r.points, samplingSeconds: r.samplingSeconds,
                       trainingSeconds: r.trainingSeconds, imagesReused: r.samples.imagesReused,
                       imagesResampled: r.samples.imagesResampled, picksReused: r.samples.picksReused,
                       picksRecomputed: r.samples.picksRecomputed)
        }
        seconds = report.seconds
        summary = report.summary
    }
}
