import ArgumentParser
import DivSeg
import DivSegCore
import DivSegIO
import DivSegRegistry
import Foundation
import DivSegDatasets
import DivSegExperiments

extension DivSegRegistry {
    /// `divseg-registry diagnose --registry DIR --dataset SPEC --split S [--oracle-eval-split val] [--json] [--json-out PATH]`.
    struct Diagnose: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Where the pipeline loses quality: pointing accuracy, sampling precision, oracle ceiling.",
            discussion: """
                On the split's images with masks (docs/RESULTS.md): per class, how often the top cell of \
                the localizer's score lies inside the class's mask (images tagged with the class; a \
                top cell on ignored ground truth is skipped); how many of the sampled training points \
                are right (foreground picks inside their class's mask, background picks on true \
                background), each beside its chance level. With --oracle-eval-split, a segmenter is \
                trained on points drawn from the split's masks (the oracle) and evaluated on that \
                split: the ceiling of the features and segmenter. With --argmax-eval-split, the \
                localizer-argmax baseline (every class's score, argmax, background below a threshold \
                chosen on the split's masks) is evaluated there.
                """)

        @Option(help: "Dataset: coco:DIR, voc:DIR or tags:FILE.csv.") var dataset: String
        @Option(help: "Split to measure on (and to train the oracle on): train, val, or a file of image ids.") var split: String
        @Option(help: "Train the oracle segmenter on --split and evaluate it on this split.") var oracleEvalSplit: String?
        @Option(help: "Evaluate the localizer-argmax baseline on this split (threshold chosen on --split; slow: every class's localizer runs on every image).")
        var argmaxEvalSplit: String?
        @Option(help: "Localizer score: foreground, foreground-minus-background, negative-background or probability.")
        var score: LocalizerScore = .foreground
        @Option(parsing: .unconditional,
                help: "Points per class per image (k) for the sampler and the oracle, \(PointSampler.pointsPerClassRange.boundText).")
        var points: Int = 20
        @Option(help: "Sampling measured.") var sampling: SamplingStrategy = .diverse
        @Flag(help: "Skip the sampling precision (pointing only; much faster).") var noSampling = false
        @Option(help: "Oracle point drawing: uniform (seeded), diverse (feature space) or dense (every cell of every 4th row and column: the ceiling of a segmenter trained on the true masks).") var oracleStrategy: OracleSampler.Strategy = .uniform
        @Option(parsing: .unconditional, help: "Oracle segmenter epochs, \(SegmenterTrainer.epochsRange.boundText).")
        var oracleEpochs: Int = SegmenterTrainer().epochs
        @Flag(help: "Train the oracle segmenter with class-balanced loss weights (as retrain --class-balanced).")
        var oracleClassBalanced = SegmenterTrainer().classBalanced
        @Option(parsing: .unconditional, help: "Random seed of the oracle points and segmenter, 0...\(UInt64.max).")
        var seed: UInt64 = 0
        @Flag(help: "Print the report as JSON instead of text.") var json = false
        @Option(help: "Also write the report as JSON to this file.") var jsonOut: String?
        @Argument(help: .hidden) var unexpected: [String] = []
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var backbone: BackboneOptions

        /// What `--json` writes.
        struct Output: Encodable {
            var dataset: String
            var split: String
            var oracleEvalSplit: String?
            var diagnostics: DiagnosticsReport
            var localizerArgmax: DiagnosticsRun.Argmax?
        }

        func validate() throws {
            try JSONOutput.refuseOldPathSpelling(unexpected)
            try requireOption("points", points, in: PointSampler.pointsPerClassRange, "points per class and image")
            try requireOption("oracle-epochs", oracleEpochs, in: SegmenterTrainer.epochsRange,
                              "passes of the oracle segmenter over the points")
        }

        func run() throws {
            // Checked before the long run: a device or folder there is refused at once.
            if let jsonOut { try RegularFile.checkOutput(jsonOut) }
            let (registry, weights) = try registryOptions.open(backbone: backbone)
            guard !registry.bundles.isEmpty else { throw RegistryError.empty(registry.directory) }
            let extractor = try HypercolumnExtractor(weightsAt: weights)
            let cache = try cacheOptions.open(weights: weights)
            let samples = try Dataset.open(spec: dataset, split: split).availableOnly().samples
            func withMasks(_ split: String) throws -> [DatasetSample] {
                try Dataset.open(spec: dataset, split: split).availableOnly().filtered(\.hasGroundTruth).samples
            }

            var sampler = PointSampler()
            sampler.strategy = sampling
            sampler.pointsPerClass = points
            var job = DiagnosticsRun(diagnostics: try PipelineDiagnostics(
                classes: registry.bundles.map(\.name), localizers: try registry.bundles.map { try $0.loadLocalizer() },
                score: score, sampler: sampler))
            job.measuresSampling = !noSampling
            if let oracleEvalSplit {
                var trainer = SegmenterTrainer()
                trainer.epochs = oracleEpochs
                trainer.seed = seed
                trainer.classBalanced = oracleClassBalanced
                job.oracle = .init(evalSamples: try withMasks(oracleEvalSplit),
                                   sampler: OracleSampler(pointsPerClass: points, strategy: oracleStrategy, seed: seed),
                                   trainer: trainer)
            }
            if let argmaxEvalSplit { job.argmaxEvaluation = (argmaxEvalSplit, try withMasks(argmaxEvalSplit)) }
            let bars = PhaseProgress()
            let result = try job.run(samples: samples, features: { try cache.features(for: $0, extractor: extractor) }) {
                bars.update(label: $0.label, done: $0.progress.done, total: $0.progress.total)
            }
            bars.finish()

            if !json {
                Swift.print(result.report.text(), terminator: "")
                if let argmax = result.argmax {
                    Swift.print("\nlocalizer-argmax baseline (score \(score.rawValue), threshold \(argmax.threshold) chosen on "
                                + "\(split)) on \(argmax.evalSplit), \(argmax.imageCount) images:")
                    Swift.print(argmax.scores.table(), terminator: "")
                }
            }
            if json || jsonOut != nil {
                let output = Output(dataset: dataset, split: split, oracleEvalSplit: oracleEvalSplit,
                                    diagnostics: result.report, localizerArgmax: result.argmax)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf",
                                                                              negativeInfinity: "-inf", nan: "nan")
                let data = try encoder.encode(output)
                if let jsonOut { try RegularFile.writeAtomically(data, to: jsonOut) }
                if json { Swift.print(String(decoding: data, as: UTF8.self)) }
            }
        }
    }
}
