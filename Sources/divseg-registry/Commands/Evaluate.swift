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
                --crf refines every prediction with the dense CRF first.
                """)

        @Option(help: "Dataset: coco:DIR, voc:DIR or tags:FILE.csv.") var dataset: String
        @Option(help: "Split: train, val, trainval or a file of image ids.") var split: String?
        @Flag(help: "Print JSON ({\"mIoU\": …, \"perClass\": {…}}) instead of the table.") var json = false
        @Option(parsing: .unconditional,
                help: "Evaluate at most this many images (first in id order), \(ExperimentRunner.evaluationLimitRange.boundText).")
        var limit: Int?
        @Option(help: "Also write the JSON report to this file.") var saveJSON: String?
        @Flag(help: "Take features from the feature cache (computing and storing missing ones).") var cached = false
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
            if cached {
                let cache = try cacheOptions.open(weights: weights)
                provider = { path in try cache.features(for: path, extractor: extractor) }
            }
            var samples = try Dataset.open(spec: dataset, split: split).samples.filter { $0.hasGroundTruth && $0.imageExists }
            if let limit { samples = Array(samples.prefix(limit)) }
            guard !samples.isEmpty else { throw ValidationError("No images with ground truth in \(dataset) (split \(split ?? "all")).") }
            var progress = ProgressReporter(total: samples.count, label: "evaluate")
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
