import DivSegCore
import DivSeg
import Foundation
import DivSegDatasets
import DivSegIO
import DivSegRegistry

/// What an ``ExperimentRunner`` measured: one ``Row`` per ``ExperimentVariant`` (mIoU over
/// all classes, mIoU over background + the 20 VOC classes, per-class IoU, wall seconds, the
/// paper's number), with a Markdown form (``markdown()``) and a JSON form (``jsonData()``).
/// All scores are percentages.
///
/// ```swift
/// let report = try runner.run(runner.standardPlan(), dataset: "coco:../shared/data/coco-mini", evalSplit: "val")
/// print(report.markdown())
/// try report.jsonData().write(to: URL(fileURLWithPath: "out/experiments/experiments.json"))
/// let back = try JSONDecoder().decode(ExperimentReport.self, from: try report.jsonData())
/// ```
public struct ExperimentReport: Sendable, Codable, Equatable {
    /// A localizer set (registry) of the run.
    public struct LocalizerSet: Sendable, Codable, Equatable {
        public var name: String
        public var directory: String
        /// Healthy bundles (classes).
        public var classes: [String]
        /// The bundles' MIL loss (manifest `localizer.loss`), nil when they differ.
        public var loss: String?
        /// Bundles that were refused, with the reason.
        public var problems: [String]

        public init(name: String, directory: String, classes: [String], loss: String?, problems: [String]) {
            self.name = name
            self.directory = directory
            self.classes = classes
            self.loss = loss
            self.problems = problems
        }
    }

    /// How much of a retraining's sampling came from the sample store (``SampleUsage``).
    public struct SampleCounts: Sendable, Codable, Equatable {
        public var imagesReused: Int
        public var imagesResampled: Int
        public var picksReused: Int
        public var picksRecomputed: Int

        public init(_ usage: SampleUsage) {
            imagesReused = usage.imagesReused
            imagesResampled = usage.imagesResampled
            picksReused = usage.picksReused
            picksRecomputed = usage.picksRecomputed
        }
    }

    /// The measurements of one variant.
    public struct Row: Sendable, Codable, Equatable {
        public var variant: ExperimentVariant
        /// Mean IoU over the classes present in ground truth or prediction (background included).
        public var mIoU: Double?
        /// How many classes that mean is over.
        public var classesInMean: Int?
        /// Mean IoU over background and those of the 20 VOC classes that are present.
        public var vocMIoU: Double?
        public var vocClassesInMean: Int?
        /// Per-class IoU, absent classes and pixel accuracy.
        public var scores: SegmentationScores.Summary?
        /// Training points of the segmenter and the images they came from.
        public var points: Int?
        public var trainingImages: Int?
        /// Sample-store reuse of the retraining (nil when the segmenter came from another row).
        public var samples: SampleCounts?
        /// Seconds of the segmenter's sampling and training, and of this row's evaluation.
        public var samplingSeconds: Double?
        public var trainingSeconds: Double?
        public var evaluationSeconds: Double?
        /// Wall seconds this row cost: retraining (unless reused) + evaluation.
        public var wallSeconds: Double?
        /// The row whose segmenter this row evaluated (same localizers and sampler), if not its own.
        public var segmenterFrom: String?
        /// The row with exactly the same setting whose figures this row repeats.
        public var repeatOf: String?
        /// Why the row has no figures.
        public var error: String?

        public init(variant: ExperimentVariant) {
            self.variant = variant
        }

        public var id: String { variant.id }
    }

    /// The dataset spec, the bundles' training split (as given; the segmenter trains on the
    /// bundles' corpora), the evaluation split.
    public var dataset: String
    public var trainSplit: String?
    public var evalSplit: String?
    /// Images evaluated (with ground truth).
    public var evaluationImages: Int
    /// Whether evaluation images were limited (``ExperimentRunner/evaluationLimit``).
    public var evaluationLimit: Int?
    public var localizerSets: [LocalizerSet]
    /// The segmenter training settings of every variant.
    public var trainer: SegmenterTrainer
    /// Findings people should know (training images in the evaluation split, …).
    public var notes: [String]
    public var rows: [Row]
    /// ISO 8601 start time, and wall seconds of the whole run so far.
    public var started: String
    public var totalSeconds: Double
    /// The command line, when the caller records it.
    public var command: String?

    public init(dataset: String, trainSplit: String?, evalSplit: String?, evaluationImages: Int, evaluationLimit: Int?,
                localizerSets: [LocalizerSet], trainer: SegmenterTrainer, notes: [String] = [], rows: [Row],
                started: String, totalSeconds: Double = 0, command: String? = nil) {
        self.dataset = dataset
        self.trainSplit = trainSplit
        self.evalSplit = evalSplit
        self.evaluationImages = evaluationImages
        self.evaluationLimit = evaluationLimit
        self.localizerSets = localizerSets
        self.trainer = trainer
        self.notes = notes
        self.rows = rows
        self.started = started
        self.totalSeconds = totalSeconds
        self.command = command
    }

    /// The row of a variant id.
    public func row(_ id: String) -> Row? { rows.first { $0.id == id } }

    /// Rows that failed.
    public var failures: [Row] { rows.filter { $0.error != nil } }

    // MARK: JSON

    /// Pretty-printed JSON with sorted keys (non-finite numbers as strings).
    ///
    /// ```swift
    /// try report.jsonData().write(to: URL(fileURLWithPath: "experiments.json"), options: .atomic)
    /// ```
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    // MARK: Markdown

    /// The tables as Markdown: a header naming data and localizers, one table per paper
    /// table (rows in plan order: name, mIoU, mIoU over background + VOC classes, the paper's
    /// number, training points, wall seconds), notes, and the total time.
    ///
    /// ```swift
    /// try report.markdown().write(toFile: "experiments.md", atomically: true, encoding: .utf8)
    /// ```
    public func markdown() -> String {
        var lines: [String] = ["# Experiments", ""]
        let images = "\(evaluationImages) image\(evaluationImages == 1 ? "" : "s") with masks"
            + (evaluationLimit.map { " (limited to the first \($0))" } ?? "")
        lines.append("Dataset `\(dataset)`; segmenters retrained on the bundles' corpora"
                     + (trainSplit.map { " (split `\($0)`)" } ?? "") + ", evaluated on split `\(evalSplit ?? "all")`: \(images). "
                     + "Segmenter: \(trainer.hiddenUnits) hidden units, \(trainer.epochs) epochs, batch \(trainer.batchSize), "
                     + "\(trainer.optimizer.rawValue) \(ExperimentVariant.short(Double(trainer.learningRate))), seed \(trainer.seed).")
        lines.append("")
        lines.append("Localizers:")
        for set in localizerSets {
            let refused = set.problems.isEmpty ? "" : ", \(set.problems.count) refused"
            lines.append("- `\(set.name)`: `\(set.directory)` — \(set.classes.count) bundles (\(set.loss ?? "mixed losses"))\(refused)")
        }
        lines.append("")
        lines.append("mIoU in percent over the classes present in ground truth or prediction (background included); "
                     + "\"bg + VOC\": over background and the VOC classes among them; paper: VOC 2012 val, "
                     + "given where the row has the paper's setting. Seconds: wall time of the row, in brackets "
                     + "sampling + segmenter training + evaluation (evaluation only when the row reuses another row's segmenter).")
        for table in ExperimentVariant.Table.allCases {
            let rows = self.rows.filter { $0.variant.table == table }
            guard !rows.isEmpty else { continue }
            lines.append("")
            lines.append("## \(table.title)")
            lines.append("")
            let counts = Set(rows.compactMap(\.classesInMean)), vocCounts = Set(rows.compactMap(\.vocClassesInMean))
            let allHeader = counts.count == 1 ? "mIoU (\(counts.first!))" : "mIoU"
            let vocHeader = vocCounts.count == 1 ? "bg + VOC (\(vocCounts.first!))" : "bg + VOC"
            lines.append("| \(table == .points ? "k (diverse)" : "variant") | \(allHeader) | \(vocHeader) | paper | points | seconds |")
            lines.append("| --- | --- | --- | --- | --- | --- |")
            for row in rows {
                var cells = [row.variant.name]
                if let error = row.error {
                    cells += ["failed: \(error.replacingOccurrences(of: "|", with: "/"))", "", paper(row), "", ""]
                } else {
                    let all = row.mIoU.map { fixed($0) + (counts.count == 1 ? "" : " (\(row.classesInMean!))") } ?? "—"
                    let voc = row.vocMIoU.map { fixed($0) + (vocCounts.count == 1 ? "" : " (\(row.vocClassesInMean!))") } ?? "—"
                    cells += [all, voc, paper(row), row.points.map(String.init) ?? "—", seconds(row)]
                }
                lines.append("| " + cells.joined(separator: " | ") + " |")
            }
        }
        if !notes.isEmpty {
            lines.append("")
            lines.append("Notes:")
            for note in notes { lines.append("- \(note)") }
        }
        lines.append("")
        let distinct = rows.filter { $0.repeatOf == nil }.count
        lines.append("\(rows.count) rows (\(distinct) distinct settings), total wall time \(clock(totalSeconds)) "
                     + "(\(Int(totalSeconds.rounded())) s); started \(started).")
        if let command { lines += ["", "```sh", command, "```"] }
        return lines.joined(separator: "\n") + "\n"
    }

    private func paper(_ row: Row) -> String { row.variant.paperMIoU.map { fixed($0) } ?? "—" }

    private func seconds(_ row: Row) -> String {
        if let repeatOf = row.repeatOf { return "= `\(repeatOf)`" }
        guard let wall = row.wallSeconds else { return "—" }
        var text = "\(Int(wall.rounded()))"
        if row.segmenterFrom != nil {
            text += " (eval; segmenter of `\(row.segmenterFrom!)`)"
        } else if let sampling = row.samplingSeconds, let training = row.trainingSeconds, let evaluation = row.evaluationSeconds {
            text += " (\(Int(sampling.rounded())) + \(Int(training.rounded())) + \(Int(evaluation.rounded())))"
        }
        return text
    }

    private func fixed(_ value: Double) -> String {
        String(format: "%.1f", locale: Locale(identifier: "en_US_POSIX"), value)
    }

    private func clock(_ seconds: Double) -> String { ProgressReporter.clock(seconds) }
}
