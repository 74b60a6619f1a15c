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
                --crf refines every prediction with the dense CRF first. Features come from the \
                feature cache (--cache; computed and stored when missing) unless --no-cache. \
                Progress goes to standard error: a bar on a terminal, a line per tenth of the \
                images elsewhere.
                """)

        @Option(help: "Dataset: coco:DIR, voc:DIR or tags:FILE.csv.") var dataset: String
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

        func validate() throws {
            if let limit { try requireOption("limit", limit, in: ExperimentRunner.evaluationLimitRange, "images") }
        }

        func run() throws {
            // Checked before the long run: a device or folder there is refused at once.
            if let saveJSON { try RegularFile.checkOutput(saveJSON) }
            let crfParameters = try crf.parameters()
            let (registry, weights) = try registryOptions.open(backbone: backbone)
            let extractor = try HypercolumnExtractor(weightsAt: weights)
            let pipeline = SegmentationPipeline(extractor: extractor, segmenter: try registry.loadSegmenter(),
                                                crf: crfParameters)
            var provider: (@Sendable (String) throws -> CompactHypercolumns)?
            if cached { printError("note: --cached is no longer needed: the feature cache is used by default (--no-cache skips it)") }
            if !noCache {
                let cache = try cacheOptions.open(weights: weights)
                provider = { path in try cache.features(for: path, extractor: extractor) }
            }
            var samples = try Dataset.open(spec: dataset, split: split).samples.filter { $0.hasGroundTruth && $0.imageExists }
            if let limit { samples = Array(samples.prefix(limit)) }
            guard !samples.isEmpty else {
                throw CommandFailure("No images with ground truth masks in \(dataset) (split \(split ?? "all")): evaluation "
                    + "needs a coco: or voc: dataset with masks; a tags CSV has none.")
            }
            var progress = ProgressReporter(total: samples.count, label: "evaluate", lines: true)
            let scores = try SegmentationEvaluator(pipeline: pipeline, features: provider).evaluate(samples) { _, _ in progress.advance() }
            progress.finish()
            if let saveJSON {
                try RegularFile.writeAtomically(try scores.jsonData(), to: saveJSON)
            }
            if json {
                print(String(decoding: try scores.jsonData(), as: UTF8.self))
            } else {
                print(scores.table())
            }
        }
    }
}
