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
        @Option(help: "Oracle point drawing: uniform (seeded) or diverse (feature space).") var oracleStrategy: OracleSampler.Strategy = .uniform
        @Option(parsing: .unconditional, help: "Oracle segmenter epochs, \(SegmenterTrainer.epochsRange.boundText).")
        var oracleEpochs: Int = 2
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
            struct Argmax: Encodable {
                var evalSplit: String
                var threshold: Float
                var candidates: [ThresholdSearch.Candidate]
                var evaluation: SegmentationScores.Summary
            }
            var dataset: String
            var split: String
            var oracleEvalSplit: String?
            var diagnostics: DiagnosticsReport
            var localizerArgmax: Argmax?
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
            let print = { (line: String, terminator: String) in if !json { Swift.print(line, terminator: terminator) } }
            let (kind, strategy, oracleDraw) = (score, sampling, oracleStrategy)
            let (registry, weights) = try registryOptions.open(backbone: backbone)
            guard !registry.bundles.isEmpty else { throw RegistryError.empty(registry.directory) }
            let names = registry.bundles.map(\.name)
            let localizers = try registry.bundles.map { try $0.loadLocalizer() }
            let extractor = try HypercolumnExtractor(weightsAt: weights)
            let cache = try cacheOptions.open(weights: weights)
            let features = { (path: String) throws -> CompactHypercolumns in try cache.features(for: path, extractor: extractor) }
            let samples = try Dataset.open(spec: dataset, split: split).availableOnly().samples

            var sampler = PointSampler()
            sampler.strategy = strategy
            sampler.pointsPerClass = points
            let diagnostics = try PipelineDiagnostics(classes: names, localizers: localizers, score: kind, sampler: sampler)
            var bar = ProgressReporter(total: samples.count, label: noSampling ? "pointing" : "pointing+sampling")
            var report = try diagnostics.measure(samples: samples, sampling: !noSampling, features: features) { _, _ in
                bar.advance()
            }
            bar.finish()

            if let oracleEvalSplit {
                let evalSamples = try Dataset.open(spec: dataset, split: oracleEvalSplit).availableOnly()
                    .filtered(\.hasGroundTruth).samples
                var trainer = SegmenterTrainer()
                trainer.epochs = oracleEpochs
                trainer.seed = seed
                var phaseBar: ProgressReporter?
                let (ceiling, _, _) = try OracleCeiling.run(
                    trainSamples: samples, evalSamples: evalSamples, classes: names,
                    oracle: OracleSampler(pointsPerClass: points, strategy: oracleDraw, seed: seed), trainer: trainer,
                    features: features
                ) { phase in
                    switch phase {
                    case .sampling(let done, let total), .evaluation(let done, let total):
                        if phaseBar == nil {
                            if case .sampling = phase { phaseBar = ProgressReporter(total: total, label: "oracle points") }
                            else { phaseBar = ProgressReporter(total: total, label: "oracle evaluate") }
                        }
                        phaseBar?.update(to: done)
                        if done == total { phaseBar?.finish(); phaseBar = nil }
                    case .training(let fraction):
                        if phaseBar == nil { phaseBar = ProgressReporter(total: 1000, label: "oracle segmenter") }
                        phaseBar?.update(to: Int(fraction * 1000))
                        if fraction >= 1 { phaseBar?.finish(); phaseBar = nil }
                    }
                }
                report.oracle = ceiling
            }
            print(report.text(), "")

            var argmax: Output.Argmax?
            if let argmaxEvalSplit {
                let scoreMaps = { (sample: DatasetSample) throws -> [[Float]] in
                    let compact = try features(sample.imagePath)
                    return localizers.map { $0.score(compact, kind: kind) }
                }
                var calibrateBar = ProgressReporter(total: samples.count, label: "argmax threshold")
                let (baseline, candidates) = try LocalizerArgmaxBaseline.calibrate(
                    classes: names, samples: samples.filter(\.hasGroundTruth), scores: scoreMaps,
                    progress: { _, _ in calibrateBar.advance() })
                calibrateBar.finish()
                let evalSamples = try Dataset.open(spec: dataset, split: argmaxEvalSplit).availableOnly()
                    .filtered(\.hasGroundTruth).samples
                var evalBar = ProgressReporter(total: evalSamples.count, label: "argmax evaluate")
                let scores = try PredictionEvaluator.evaluate(samples: evalSamples, classes: names,
                                                              progress: { _, _ in evalBar.advance() }) { sample, size in
                    try baseline.predict(scores: try scoreMaps(sample), imageSize: size)
                }
                evalBar.finish()
                print("", "\n")
                print("localizer-argmax baseline (score \(kind.rawValue), threshold \(baseline.threshold) chosen on "
                      + "\(split)) on \(argmaxEvalSplit), \(evalSamples.count) images:", "\n")
                print(scores.table(), "")
                argmax = Output.Argmax(evalSplit: argmaxEvalSplit, threshold: baseline.threshold, candidates: candidates,
                                       evaluation: scores.summary)
            }

            if json || jsonOut != nil {
                let output = Output(dataset: dataset, split: split, oracleEvalSplit: oracleEvalSplit,
                                    diagnostics: report, localizerArgmax: argmax)
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
