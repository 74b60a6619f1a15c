import DivSeg
import DivSegIO
import Foundation
import DivSegDatasets
import DivSegCore
import DivSegRegistry

/// Reproduces the paper's tables on a dataset split in one run: for every
/// ``ExperimentVariant`` of a plan, retrain the shared segmenter of a registry with the
/// variant's sampler and score it on the evaluation images, then collect the rows in an
/// ``ExperimentReport``.
///
/// - **Nothing in the registries changes**: segmenters stay in memory (or go to
///   ``segmenterFolder``); only sample-store entries (`<registry>/.samples`) are added, so
///   the picks of every variant are reused by the next variant with the same sampler and by
///   later runs (each row reports its ``ExperimentReport/SampleCounts``).
/// - **Each distinct setting runs once**: rows that repeat a (localizers, sampler) pair share
///   one retraining, rows that also share the CRF setting share the evaluation
///   (``ExperimentReport/Row/segmenterFrom``, ``ExperimentReport/Row/repeatOf``).
/// - Features come from the retrainer's ``FeatureCache`` for training and evaluation alike.
/// - One training set at a time: a variant's points are freed before the next retraining.
/// - A failed retraining or evaluation is recorded in its rows and the run goes on.
///
/// ```swift
/// var runner = try ExperimentRunner(localizerSets: [("registry", "out/experiments/registry"),
///                                                   ("mlp-global", "out/mlp")],
///                                   retrainer: SegmenterRetrainer(extractor: extractor, cache: cache),
///                                   backbone: try BackboneIdentity.vgg16(weightsAt: weights))
/// runner.evaluationLimit = 20
/// let report = try runner.run(runner.standardPlan(), dataset: "coco:../shared/data/coco-mini",
///                             evalSplit: "val", trainSplit: "train")
/// print(report.markdown())
/// ```
public struct ExperimentRunner: Sendable {
    /// A registry of bundles under a short name (the main one first).
    public struct LocalizerSet: Sendable {
        public var name: String
        public var registry: Registry
        /// The bundles' MIL loss (manifest `localizer.loss`), nil when they differ.
        public var loss: String? {
            let losses = Set(registry.bundles.map(\.manifest.localizer.loss))
            return losses.count == 1 ? losses.first : nil
        }
    }

    /// What the runner is doing, for progress displays.
    public enum Event: Sendable {
        /// Retraining the segmenter of `variant` (step `step` of `steps` retrainings + evaluations).
        case retraining(step: Int, steps: Int, variant: ExperimentVariant, phase: SegmenterRetrainer.Phase)
        /// A retraining finished: points, sample-store reuse, seconds.
        case retrained(variant: ExperimentVariant, points: Int, samples: SampleUsage, seconds: Double)
        /// Evaluating `variant`: `done` of `total` images.
        case evaluating(step: Int, steps: Int, variant: ExperimentVariant, done: Int, total: Int)
        /// A row is complete (or failed).
        case finished(ExperimentReport.Row)
    }

    /// The localizer sets, the main registry first.
    public let localizerSets: [LocalizerSet]
    /// Feature cache, extractor and segmenter trainer; its sampler is replaced per variant
    /// and its ``SegmenterRetrainer/sampler`` is the "default" of ``standardPlan(quick:)``.
    public var retrainer: SegmenterRetrainer
    /// Reuse and fill each registry's sample store (default true).
    public var useSampleStore = true
    /// Evaluate only the first this many images with ground truth (id order); within
    /// ``evaluationLimitRange``.
    public var evaluationLimit: Int?
    /// The image limits accepted (here and by `evaluate --limit`): at least one image,
    /// since a limit of 0 or less would evaluate nothing and report an empty score.
    public static let evaluationLimitRange = 1...Int.max
    /// When set, each variant's segmenter is written here as `<id with / as _>.h5`.
    public var segmenterFolder: String?
    /// Receives notes: damaged sample-store entries, failed writes, findings.
    public var log: (@Sendable (String) -> Void)?

    /// Opens the registries (with the backbone check; nil skips it).
    ///
    /// ```swift
    /// let runner = try ExperimentRunner(localizerSets: [("registry", "classes")], retrainer: retrainer,
    ///                                   backbone: nil)
    /// ```
    ///
    /// - Throws: ``ExperimentError`` for no, duplicate, badly named or empty registries;
    ///   ``RegistryError`` when a folder is missing.
    public init(localizerSets: [(name: String, directory: String)], retrainer: SegmenterRetrainer,
                backbone: BundleManifest.BackboneInfo?) throws {
        guard !localizerSets.isEmpty else { throw ExperimentError.noRegistry }
        var seen = Set<String>()
        var sets: [LocalizerSet] = []
        for (name, directory) in localizerSets {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
            guard !name.isEmpty, name.unicodeScalars.allSatisfy(allowed.contains) else { throw ExperimentError.invalidName(name) }
            guard seen.insert(name).inserted else { throw ExperimentError.duplicateName(name) }
            let registry = try Registry.open(directory, backbone: backbone)
            guard !registry.bundles.isEmpty else {
                throw ExperimentError.emptyRegistry(name: name, directory: directory, problems: registry.problems.map(\.description))
            }
            sets.append(LocalizerSet(name: name, registry: registry))
        }
        self.localizerSets = sets
        self.retrainer = retrainer
    }

    /// ``ExperimentVariant/standardPlan(localizers:defaultSampler:quick:)`` for these
    /// localizer sets and the retrainer's sampler.
    public func standardPlan(quick: Bool = false) -> [ExperimentVariant] {
        ExperimentVariant.standardPlan(localizers: localizerSets.map { ($0.name, $0.loss) },
                                       defaultSampler: retrainer.sampler, quick: quick)
    }

    /// Runs every variant of `plan` and returns the report; `checkpoint` receives the report
    /// after each evaluation (write it out so that an interrupted run keeps what it measured).
    ///
    /// ```swift
    /// let report = try runner.run(plan, dataset: "coco:../shared/data/coco-mini", evalSplit: "val",
    ///                             trainSplit: "train", checkpoint: { try? $0.jsonData().write(to: url) })
    /// ```
    ///
    /// - Parameters:
    ///   - dataset: a dataset spec (``Dataset/open(spec:split:names:)``) with masks.
    ///   - evalSplit: the split evaluated on.
    ///   - trainSplit: the split the bundles were trained on: recorded, and the bundles'
    ///     corpora are checked against it (images outside it are noted).
    /// - Throws: ``ExperimentError`` (empty or inconsistent plan, no evaluation images),
    ///   ``DatasetError``. Failures of single variants are recorded in their rows instead.
    public func run(_ plan: [ExperimentVariant], dataset: String, evalSplit: String?, trainSplit: String? = nil,
                    events: ((Event) -> Void)? = nil, checkpoint: ((ExperimentReport) -> Void)? = nil) throws -> ExperimentReport {
        let start = Date()
        guard !plan.isEmpty else { throw ExperimentError.emptyPlan }
        var ids = Set<String>()
        let names = localizerSets.map(\.name)
        for variant in plan {
            guard ids.insert(variant.id).inserted else { throw ExperimentError.duplicateVariant(variant.id) }
            guard names.contains(variant.localizers) else {
                throw ExperimentError.unknownLocalizers(variant: variant.id, name: variant.localizers, known: names)
            }
        }
        var samples = try Dataset.open(spec: dataset, split: evalSplit).availableOnly().filtered(\.hasGroundTruth).samples
        if let evaluationLimit { samples = Array(samples.prefix(max(0, evaluationLimit))) }
        guard !samples.isEmpty else { throw ExperimentError.noEvaluationImages(dataset: dataset, split: evalSplit) }

        let formatter = ISO8601DateFormatter()
        var report = ExperimentReport(
            dataset: dataset, trainSplit: trainSplit, evalSplit: evalSplit, evaluationImages: samples.count,
            evaluationLimit: evaluationLimit,
            localizerSets: localizerSets.map {
                ExperimentReport.LocalizerSet(name: $0.name, directory: $0.registry.directory, classes: $0.registry.bundles.map(\.name),
                                              loss: $0.loss, problems: $0.registry.problems.map(\.description))
            },
            trainer: retrainer.trainer, rows: plan.map(ExperimentReport.Row.init), started: formatter.string(from: start))
        report.notes = try overlapNotes(evaluation: samples, dataset: dataset, trainSplit: trainSplit)
        for note in report.notes { log?(note) }

        // Distinct retrainings (localizers + sampler) and evaluations (+ CRF), in plan order.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func text<T: Encodable>(_ value: T?) -> String {
            guard let value, let data = try? encoder.encode(value) else { return "none" }
            return String(decoding: data, as: UTF8.self)
        }
        let trainingKeys = plan.map { "\($0.localizers)|\(text($0.sampler))" }
        let evaluationKeys = plan.indices.map { "\(trainingKeys[$0])|\(text(plan[$0].crf))|\(plan[$0].adjustment ?? .none)|\(plan[$0].localizerWeight ?? 0)" }
        let trainings = ordered(trainingKeys)
        let steps = trainings.count + ordered(evaluationKeys).count
        var step = 0

        let extractor = retrainer.extractor, cache = retrainer.cache
        let features: @Sendable (String) throws -> CompactHypercolumns = { path in try cache.features(for: path, extractor: extractor) }

        for trainingKey in trainings {
            let rowsOfTraining = plan.indices.filter { trainingKeys[$0] == trainingKey }
            let owner = rowsOfTraining[0]
            let variant = plan[owner]
            let set = localizerSets.first { $0.name == variant.localizers }!
            step += 1
            var retrainer = self.retrainer
            retrainer.sampler = variant.sampler
            var store: SampleStore?
            if useSampleStore {
                store = SampleStore(registry: set.registry.directory)
                store?.log = log
            }
            let result: SegmenterRetrainer.Result
            let trainStart = Date()
            do {
                result = try retrainer.retrain(set.registry, store: store) { [step] phase in
                    events?(.retraining(step: step, steps: steps, variant: variant, phase: phase))
                }
            } catch {
                for index in rowsOfTraining {
                    report.rows[index].error = "retraining failed: \(error)"
                    events?(.finished(report.rows[index]))
                }
                step += Set(rowsOfTraining.map { evaluationKeys[$0] }).count
                report.totalSeconds = Date().timeIntervalSince(start)
                checkpoint?(report)
                continue
            }
            let trainWall = Date().timeIntervalSince(trainStart)
            events?(.retrained(variant: variant, points: result.points, samples: result.samples, seconds: trainWall))
            if let segmenterFolder {
                do {
                    try FileManager.default.createDirectory(atPath: segmenterFolder, withIntermediateDirectories: true)
                    let path = (segmenterFolder as NSString).appendingPathComponent(variant.id.replacingOccurrences(of: "/", with: "_") + ".h5")
                    try result.segmenter.save(to: path)
                } catch {
                    log?("cannot save the segmenter of '\(variant.id)': \(error)")
                }
            }
            report.rows[owner].points = result.points
            report.rows[owner].trainingImages = result.images
            report.rows[owner].samples = ExperimentReport.SampleCounts(result.samples)
            report.rows[owner].samplingSeconds = result.samplingSeconds
            report.rows[owner].trainingSeconds = result.trainingSeconds

            // The experiment tables compare training variants as the paper scores them: the
            // segmenter's plain argmax, except in the rows that name prediction rules.
            let plainPipeline = SegmentationPipeline(extractor: extractor, segmenter: result.segmenter, adjustment: .none)
            for evaluationKey in ordered(rowsOfTraining.map { evaluationKeys[$0] }) {
                let rows = rowsOfTraining.filter { evaluationKeys[$0] == evaluationKey }
                let first = rows[0]
                step += 1
                let evaluationStart = Date()
                do {
                    var pipeline = plainPipeline
                    pipeline.adjustment = plan[first].adjustment ?? .none
                    if let weight = plan[first].localizerWeight {
                        pipeline.localizerFusion = try set.registry.localizerFusion(channels: result.segmenter.classes, weight: weight)
                    }
                    let evaluator = SegmentationEvaluator(pipeline: pipeline, features: features, crf: plan[first].crf)
                    let scores = try evaluator.evaluate(samples) { [step] done, total in
                        events?(.evaluating(step: step, steps: steps, variant: plan[first], done: done, total: total))
                    }
                    let seconds = Date().timeIntervalSince(evaluationStart)
                    fill(&report.rows[first], scores: scores, seconds: seconds)
                    if first == owner {
                        report.rows[first].wallSeconds = trainWall + seconds
                    } else {
                        report.rows[first].segmenterFrom = plan[owner].id
                        report.rows[first].points = result.points
                        report.rows[first].wallSeconds = seconds
                    }
                } catch {
                    report.rows[first].error = "evaluation failed: \(error)"
                }
                for index in rows.dropFirst() {
                    var copy = report.rows[first]
                    copy.variant = plan[index]
                    copy.repeatOf = plan[first].id
                    report.rows[index] = copy
                }
                for index in rows { events?(.finished(report.rows[index])) }
                report.totalSeconds = Date().timeIntervalSince(start)
                checkpoint?(report)
            }
        }
        report.totalSeconds = Date().timeIntervalSince(start)
        return report
    }

    /// Unique values in order of first appearance.
    private func ordered(_ keys: [String]) -> [String] {
        var seen = Set<String>()
        return keys.filter { seen.insert($0).inserted }
    }

    /// Fills the figures of a row from the scores.
    private func fill(_ row: inout ExperimentReport.Row, scores: SegmentationScores, seconds: Double) {
        let present = scores.classes.filter(\.isPresent)
        row.mIoU = scores.meanIoU
        row.classesInMean = present.count
        let voc = present.filter { $0.name == "background" || ClassNames.voc.contains($0.name) }
        row.vocClassesInMean = voc.count
        row.vocMIoU = voc.isEmpty ? nil : voc.map { $0.iou! }.reduce(0, +) / Double(voc.count)
        row.scores = scores.summary
        row.evaluationSeconds = seconds
    }

    /// Notes on the images: evaluation images that are also training images of some
    /// registry (by content), and training images outside `trainSplit`.
    private func overlapNotes(evaluation: [DatasetSample], dataset: String, trainSplit: String?) throws -> [String] {
        var digests: [String: String] = [:]
        func digest(_ path: String) -> String? {
            if let known = digests[path] { return known }
            let value = try? FileDigest.sha256(ofFileAt: path)
            digests[path] = value
            return value
        }
        let evaluationDigests = Set(evaluation.compactMap { digest($0.imagePath) })
        var trainSplitDigests: Set<String>?
        if let trainSplit {
            let train = try Dataset.open(spec: dataset, split: trainSplit).availableOnly().samples
            trainSplitDigests = Set(train.compactMap { digest($0.imagePath) })
        }
        var notes: [String] = []
        for set in localizerSets {
            let images = try retrainer.trainingImages(of: set.registry)
            // The digests recorded in corpus.csv: the corpus files need not be on this machine
            // (retraining reports a missing one with its own message).
            let imageDigests = images.map(\.sha256)
            let shared = imageDigests.filter(evaluationDigests.contains).count
            if shared > 0 {
                notes.append("\(shared) of the \(evaluation.count) evaluation images are training images of '\(set.name)' "
                             + "(its bundles' corpora): its rows are not held-out figures.")
            }
            if let trainSplitDigests, let trainSplit {
                let outside = imageDigests.filter { !trainSplitDigests.contains($0) }.count
                if outside > 0 {
                    notes.append("\(outside) of the \(images.count) corpus images of '\(set.name)' are not in split '\(trainSplit)' of \(dataset).")
                }
            }
        }
        return notes
    }
}
