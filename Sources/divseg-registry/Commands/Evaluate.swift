import ArgumentParser
import DivSeg
import DivSegCore
import DivSegIO
import DivSegRegistry
import Foundation
import DivSegDatasets
import DivSegExperiments

extension DivSegRegistry {
    /// `divseg-registry evaluate --dataset SPEC --split S [--json]`.
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per-class IoU and mIoU of the registry's segmenter on a dataset with masks.",
            discussion: """
                VOC protocol: one confusion matrix over all pixels of the split at original \
                resolution, label 255 ignored; classes not in the registry count as background; \
                a class absent from both ground truth and prediction is left out of the mean. \
                Predictions follow `segment`'s rules (the classes' localizer maps added, \
                background bias, small classes removed, then the dense CRF on the half-size \
                image; --no-crf without it, --no-adjust for the plain argmax); \
                --tta averages each image's logits with its mirror image's; --oracle-tags segments each image as if its \
                tags were known, taken from its mask. Features come from the \
                feature cache (--cache; computed and stored when missing) unless --no-cache. \
                Progress goes to standard error: a bar on a terminal, a line per tenth of the \
                images elsewhere. Ctrl-C (SIGINT) or SIGTERM stops after the current image and \
                prints the scores over the images done, marked partial (with --json/--json-out: \
                "partial": true, "images", "imagesPlanned"), exit status 130 (143 for SIGTERM); \
                a second signal stops at once.
                Sharded (--shard i/n, or a Slurm job array / Kubernetes Indexed Job): only the \
                shard's images are evaluated (after --limit) and --json-out (required) writes the \
                shard's confusion matrix; `evaluate --merge part-*.json` sums the parts of all n \
                shards and prints the same scores as one process would.
                """)

        @Option(help: "Dataset: coco:DIR, voc:DIR or tags:FILE.csv.") var dataset: String?
        @Option(help: "Split: train, val, trainval or a file of image ids (default: every image of the dataset).") var split: String?
        @Flag(help: "Print JSON ({\"mIoU\": …, \"perClass\": {…}}) instead of the table.") var json = false
        @Option(parsing: .unconditional,
                help: "Evaluate at most this many images (first in id order), \(ExperimentRunner.evaluationLimitRange.boundText).")
        var limit: Int?
        @Option(name: [.customLong("json-out"), .customLong("save-json")], help: "Also write the JSON report to this file.")
        var saveJSON: String?
        @Flag(help: "Run the backbone on every image instead of using the feature cache.") var noCache = false
        @Flag(help: .hidden) var cached = false     // the cache is the default now; kept so old scripts run
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var backbone: BackboneOptions
        @OptionGroup var crf: CRFOptions
        @OptionGroup var adjustmentOptions: AdjustmentOptions
        @Flag(name: .customLong("tta"),
              help: "Test-time flip: average the segmenter's logits with the mirror image's (a second backbone run per image; mirror features are cached like the image's).")
        var tta = false
        @Flag(name: .customLong("oracle-tags"),
              help: "Diagnostic: segment each image as if its tags were known (the classes of its ground-truth mask), as `segment --tags` does.")
        var oracleTags = false
        @OptionGroup var shardOptions: ShardOptions
        @Option(parsing: .upToNextOption,
                help: ArgumentHelp("Merge the shard results (files written by --shard i/n --json-out FILE) instead of evaluating.",
                                   valueName: "part.json"))
        var merge: [String] = []

        func validate() throws {
            if let limit { try requireOption("limit", limit, in: ExperimentRunner.evaluationLimitRange, "images") }
            if merge.isEmpty && dataset == nil { throw ValidationError("Missing --dataset (or --merge part.json… to merge shard results).") }
            if !merge.isEmpty && (dataset != nil || split != nil || limit != nil || shardOptions.shard != nil) {
                throw ValidationError("--merge sums finished shard results: pass it without --dataset, --split, --limit and --shard.")
            }
        }

        func run() throws {
            // Checked before the long run: a device or folder there is refused at once.
            if let saveJSON { try RegularFile.checkOutput(saveJSON) }
            if !merge.isEmpty { return try mergeParts() }
            guard let dataset else { throw ValidationError("Missing --dataset.") }
            // With a shard (explicit, even 1/1, or from the environment) --json-out writes a part.
            let sharded = try shardOptions.resolve()
            if let shard = sharded, saveJSON == nil {
                throw CommandFailure("Shard \(shard) evaluates part of the images: pass --json-out FILE for its result, then merge the parts with `evaluate --merge`.")
            }
            let crfParameters = try crf.parameters(plain: adjustmentOptions.noAdjust)
            let (registry, weights) = try registryOptions.open(backbone: backbone)
            let extractor = try HypercolumnExtractor(weightsAt: weights)
            var pipeline = SegmentationPipeline(extractor: extractor, segmenter: try registry.loadSegmenter(),
                                                crf: crfParameters)
            try adjustmentOptions.configure(&pipeline, registry: registry)
            pipeline.testTimeFlip = tta
            var provider: (@Sendable (String) throws -> CompactHypercolumns)?
            var mirrorProvider: (@Sendable (String) throws -> CompactHypercolumns)?
            var cache: FeatureCache?
            if cached { printError("note: --cached is no longer needed: the feature cache is used by default (--no-cache skips it)") }
            if !noCache {
                let opened = try cacheOptions.open(weights: weights)
                provider = { path in try opened.features(for: path, extractor: extractor) }
                mirrorProvider = { path in try opened.features(for: path, extractor: extractor, flipped: true) }
                cache = opened
            }
            var samples = try Dataset.open(spec: dataset, split: split).samples.filter { $0.hasGroundTruth && $0.imageExists }
            if let limit { samples = Array(samples.prefix(limit)) }
            guard !samples.isEmpty else {
                throw CommandFailure("No images with ground truth masks in \(dataset) (split \(split ?? "all")): evaluation "
                    + "needs a coco: or voc: dataset with masks; a tags CSV has none.")
            }
            if let cache, sharded == nil {
                // Before the long run: how much of it is backbone work (--tta also needs the mirror images').
                printError("evaluate: \(samples.count) image\(samples.count == 1 ? "" : "s"); features: "
                           + "\(FeaturePlan(cache: cache, imagePaths: samples.map(\.imagePath), entry: .full, mirrored: tta))")
            }
            if let shard = sharded {
                var run = ["dataset": dataset, "split": split ?? "all", "limit": limit.map(String.init) ?? "none",
                           "images": String(samples.count), "features": noCache ? "backbone" : "cache",
                           "crf": crfParameters.map { "\($0)" } ?? "off",
                           "rules": oracleTags ? "tags from the masks, \(pipeline.taggedAdjustment)" : "\(pipeline.adjustment)",
                           "segmenter": try FileDigest.sha256(ofFileAt: registry.segmenterPath)]
                // Parts merge only when made alike: the localizer maps' weight and the flip too.
                run["localizerWeight"] = "\(adjustmentOptions.fusionWeight)"
                if tta { run["tta"] = "flip" }
                samples = shard.select(samples)
                var progress = ProgressReporter(total: max(samples.count, 1), label: "evaluate \(shard)", lines: true)
                var evaluator = SegmentationEvaluator(pipeline: pipeline, features: provider)
                evaluator.mirrorFeatures = mirrorProvider
                evaluator.oracleTags = oracleTags
                let matrix = try evaluator.confusionMatrix(samples) { _, _ in progress.advance() }
                progress.finish()
                let part = EvaluationPart(shard: shard, run: run, images: samples.count,
                                          classes: pipeline.segmenter.classes, matrix: matrix)
                try RegularFile.writeAtomically(try part.jsonData(), to: saveJSON!)
                if json {
                    print(String(decoding: try part.jsonData(), as: UTF8.self))
                } else {
                    print("shard \(shard): \(samples.count) images evaluated, confusion matrix written to \(saveJSON!)"
                          + (part.scores.map { String(format: " (this shard alone: mIoU %.1f)", $0.mIoU) } ?? ""))
                }
                return
            }
            var progress = ProgressReporter(total: samples.count, label: "evaluate", lines: true)
            // Ctrl-C or SIGTERM: stop after the current image and report the images done.
            let interrupts = InterruptHandler(note: "stopping after the current image; scores over the images done follow")
            var evaluator = SegmentationEvaluator(pipeline: pipeline, features: provider)
            evaluator.mirrorFeatures = mirrorProvider
            evaluator.cancellation = interrupts.token
            evaluator.oracleTags = oracleTags
            let evaluation: SegmentationEvaluator.Run
            do {
                evaluation = try evaluator.run(samples) { _, _ in progress.advance() }
            } catch {
                interrupts.uninstall()
                throw error
            }
            interrupts.uninstall()
            progress.finish()
            if evaluation.interrupted {
                try reportPartial(evaluation, reason: interrupts.token.reason ?? .requested,
                                  classes: pipeline.segmenter.classes)
            }
            let scores = try SegmentationScores(matrix: evaluation.matrix, classNames: pipeline.segmenter.classes)
            if let saveJSON {
                try RegularFile.writeAtomically(try scores.jsonData(), to: saveJSON)
            }
            if json {
                print(String(decoding: try scores.jsonData(), as: UTF8.self))
            } else {
                print(scores.table())
            }
        }

        /// An evaluation stopped by a signal: the scores over the images done, marked partial
        /// on standard output, standard error and in --json-out; exit status 130 (SIGINT) or 143.
        private func reportPartial(_ evaluation: SegmentationEvaluator.Run, reason: CancellationToken.Reason,
                                   classes: [String]) throws -> Never {
            let done = evaluation.imagesDone, total = evaluation.imagesTotal
            let scores = done > 0 ? try? SegmentationScores(matrix: evaluation.matrix, classNames: classes) : nil
            guard let scores else {
                printError("interrupted after \(done) of \(total) images: no scores (no image finished)"
                           + (saveJSON.map { "; \($0) not written" } ?? ""))
                throw ExitCode(reason.exitStatus)
            }
            printError("interrupted after \(done) of \(total) images; scores over these \(done) (partial)")
            let output = PartialEvaluationOutput(scores.summary, images: done, imagesPlanned: total,
                                                 interruptedBy: reason == .interrupt ? "SIGINT" : "SIGTERM")
            if let saveJSON {
                try RegularFile.writeAtomically(try JSONOutput.encoder().encode(output), to: saveJSON)
            }
            if json {
                try JSONOutput.print(output)
            } else {
                print("PARTIAL: interrupted after \(done) of \(total) images; scores over these \(done)")
                print(scores.table())
            }
            throw ExitCode(reason.exitStatus)
        }

        /// `--merge`: the scores of the summed shard matrices, reported as one process would.
        private func mergeParts() throws {
            var parts: [(path: String, part: EvaluationPart)] = []
            for path in merge { parts.append((path, try EvaluationPart.read(from: path))) }
            let merged = try EvaluationPart.merge(parts)
            let scores = try SegmentationScores(matrix: merged.matrix, classNames: merged.classes)
            if let saveJSON { try RegularFile.writeAtomically(try scores.jsonData(), to: saveJSON) }
            if json {
                print(String(decoding: try scores.jsonData(), as: UTF8.self))
            } else {
                printError("merged \(parts.count) shards: \(merged.images) images")
                print(scores.table())
            }
        }
    }

    /// What `evaluate --json` prints and `--json-out` writes for an interrupted evaluation:
    /// the usual keys plus `partial` (true), `images` (done) and `imagesPlanned`.
    struct PartialEvaluationOutput: Encodable {
        var mIoU: Double
        var perClass: [String: Double]
        var absent: [String]
        var pixelAccuracy: Double
        var averageAccuracy: Double?
        var partial = true
        var images: Int
        var imagesPlanned: Int
        var interruptedBy: String

        init(_ summary: SegmentationScores.Summary, images: Int, imagesPlanned: Int, interruptedBy: String) {
            mIoU = summary.mIoU
            perClass = summary.perClass
            absent = summary.absent
            pixelAccuracy = summary.pixelAccuracy
            averageAccuracy = summary.averageAccuracy
            self.images = images
            self.imagesPlanned = imagesPlanned
            self.interruptedBy = interruptedBy
        }
    }
}
