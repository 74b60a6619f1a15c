import Foundation
import DivSeg
import DivSegCore
import DivSegIO

/// The findings of ``PipelineDiagnostics/measure(samples:sampling:features:progress:)`` and,
/// when run, the ``OracleCeiling``: a text form for people and a JSON form for comparisons.
///
/// ```swift
/// var report = try diagnostics.measure(samples: train.samples) { try cache.features(for: $0, extractor: extractor) }
/// report.oracle = try OracleCeiling.run(trainSamples: train.samples, evalSamples: val.samples,
///                                       classes: names) { … }.ceiling
/// print(report.text())
/// try report.jsonData().write(to: URL(fileURLWithPath: "diagnose.json"))
/// ```
public struct DiagnosticsReport: Sendable, Equatable, Codable {
    /// Foreground classes (label `i + 1` = `classes[i]`).
    public var classes: [String]
    /// The score used for pointing and sampling.
    public var score: LocalizerScore
    /// The sampler measured.
    public var sampler: PointSampler
    /// Images given, and those with a mask.
    public var images: Int
    public var imagesWithMasks: Int
    /// Pointing accuracy per class (class order).
    public var pointing: [PointingTally]
    /// Sampling precision, when measured.
    public var sampling: SamplingPrecision?
    /// The oracle ceiling, when run.
    public var oracle: OracleCeiling?

    public init(classes: [String], score: LocalizerScore, sampler: PointSampler, images: Int, imagesWithMasks: Int,
                pointing: [PointingTally], sampling: SamplingPrecision?, oracle: OracleCeiling? = nil) {
        self.classes = classes
        self.score = score
        self.sampler = sampler
        self.images = images
        self.imagesWithMasks = imagesWithMasks
        self.pointing = pointing
        self.sampling = sampling
        self.oracle = oracle
    }

    /// Pointing accuracy pooled over all classes' counted images, nil when none was counted.
    public var pooledPointingAccuracy: Double? {
        let counted = pointing.reduce(0) { $0 + $1.counted }
        return counted > 0 ? Double(pointing.reduce(0) { $0 + $1.hits }) / Double(counted) : nil
    }

    /// The chance level of ``pooledPointingAccuracy``.
    public var pooledPointingChance: Double? {
        let counted = pointing.reduce(0) { $0 + $1.counted }
        return counted > 0 ? pointing.reduce(0) { $0 + $1.maskShareSum } / Double(counted) : nil
    }

    /// UTF-8 JSON with sorted keys (pretty-printed unless `prettyPrinted` is false).
    public func jsonData(prettyPrinted: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = prettyPrinted ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf",
                                                                      negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// Aligned text tables: pointing per class, sampling precision per class, the oracle row.
    /// Percentages with one decimal; "-" where nothing was counted.
    public func text() -> String {
        var lines: [String] = []
        lines.append("pointing accuracy (score \(score.rawValue); top cell inside the class's mask, "
                     + "on images tagged with the class that have a mask; \(imagesWithMasks) of \(images) images have masks)")
        var rows = [["class", "images", "hits", "ignored", "accuracy", "chance"]]
        for t in pointing {
            rows.append([t.className, "\(t.counted)", "\(t.hits)", "\(t.ignored)", Self.percent(t.accuracy),
                         Self.percent(t.chance)])
        }
        let counted = pointing.reduce(0) { $0 + $1.counted }
        rows.append(["all", "\(counted)", "\(pointing.reduce(0) { $0 + $1.hits })",
                     "\(pointing.reduce(0) { $0 + $1.ignored })", Self.percent(pooledPointingAccuracy),
                     Self.percent(pooledPointingChance)])
        lines += Self.table(rows)
        if let sampling {
            lines.append("")
            lines.append("sampling precision (\(sampler.strategy.rawValue), k = \(sampler.pointsPerClass); "
                         + "\(sampling.images) images with a mask and a listed tag; picks on label 255 not judged)")
            var rows = [["picks of", "picks", "judged", "right", "precision", "chance"]]
            for c in sampling.foreground + [sampling.background] {
                rows.append([c.name, "\(c.picks)", "\(c.judged)", "\(c.correct)", Self.percent(c.precision),
                             Self.percent(c.chance)])
            }
            let judged = sampling.foreground.reduce(0) { $0 + $1.judged }
            rows.append(["foreground (all)", "\(sampling.foreground.reduce(0) { $0 + $1.picks })", "\(judged)",
                         "\(sampling.foreground.reduce(0) { $0 + $1.correct })",
                         Self.percent(sampling.foregroundPrecision), Self.percent(sampling.foregroundChance)])
            lines += Self.table(rows)
        }
        if let oracle {
            lines.append("")
            let drawn = oracle.oracle.strategy == .dense ? "stride \(oracle.oracle.denseStride)"
                                                         : "k = \(oracle.oracle.pointsPerClass)"
            let loss = oracle.classBalanced == true ? ", class-balanced loss" : ""
            lines.append("oracle ceiling (\(oracle.oracle.strategy.rawValue) mask points, \(drawn)): "
                         + "segmenter trained on \(oracle.points) points from \(oracle.trainImages) images "
                         + "(\(oracle.epochs) epochs\(loss)), evaluated on \(oracle.evalImages) images")
            var rows = [["class", "IoU %"]]
            for name in ["background"] + classes {
                rows.append([name, oracle.scores.perClass[name].map { String(format: "%.2f", $0) } ?? "absent"])
            }
            rows.append(["pixel accuracy", String(format: "%.2f", oracle.scores.pixelAccuracy)])
            rows.append(["mIoU", String(format: "%.2f", oracle.scores.mIoU)])
            lines += Self.table(rows)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.1f %%", locale: Locale(identifier: "en_US_POSIX"), 100 * $0) } ?? "-"
    }

    /// Left-aligned first column, right-aligned others.
    static func table(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                let fill = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + fill : fill + cell
            }.joined(separator: "  ")
        }
    }
}
