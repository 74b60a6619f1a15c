import ArgumentParser
import DivSeg
import DivSegCore
import DivSegRegistry
import Foundation

extension DivSegRegistry {
    /// `divseg-registry train CLASS --dataset SPEC [--split S] --out DIR`.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a class bundle (localizer) from image-level tags.",
            discussion: """
                Positives are the images tagged CLASS, negatives as many images not tagged with it \
                (seeded). Schedule: 2 epochs at the learning rate, 1 at a tenth, Adam, batch 1. \
                Writes manifest.json, localizer.h5 (float16) and corpus.csv into --out.
                """)

        @Argument(help: "Class name (dataset aliases such as COCO 'airplane' are accepted).") var className: String
        @Option(help: "Dataset: coco:DIR, voc:DIR or tags:FILE.csv.") var dataset: String
        @Option(help: "Split: train, val, trainval or a file of image ids.") var split: String?
        @Option(name: .shortAndLong, help: "Bundle directory to write (e.g. classes/giraffe).") var out: String
        @Option(help: "MIL loss: global-softmax (paper default) or pixel-softmax.") var loss: String = LocalizerLoss.globalSoftmax.rawValue
        @Option(help: "Hidden units of the localizer.") var hidden: Int = 1024
        @Option(help: "Learning rate of the first epochs (Adam).") var learningRate: Float = 1e-4
        @Option(help: "Random seed (same inputs + seed ⇒ identical weights).") var seed: UInt64 = 1
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var backbone: BackboneOptions

        func run() throws {
            guard let loss = LocalizerLoss(rawValue: loss) else {
                throw ValidationError("--loss must be one of \(LocalizerLoss.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            let weights = try backbone.resolvedWeightsPath()
            let extractor = try HypercolumnExtractor(weightsAt: weights)
            let data = try Dataset.open(spec: dataset, split: split)
            var trainer = BundleTrainer()
            trainer.trainer.loss = loss
            trainer.trainer.hiddenUnits = hidden
            trainer.trainer.learningRate = learningRate
            trainer.trainer.seed = seed
            var bar: ProgressReporter?
            let (bundle, report) = try trainer.train(
                className: className, dataset: data, spec: dataset, extractor: extractor,
                cache: try cacheOptions.open(weights: weights), backbone: try BackboneIdentity.vgg16(weightsAt: weights),
                to: out
            ) { p in
                if bar == nil { bar = ProgressReporter(total: p.totalSteps, label: "train \(className)") }
                bar?.update(to: p.step)
            }
            bar?.finish()
            print(report.summary)
            print("bundle written to \(bundle.directory) (scoreScale \(bundle.manifest.scoreScale))")
        }
    }

    /// `divseg-registry retrain [--registry DIR]`.
    struct Retrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the shared segmenter for the bundles in the registry.",
            discussion: "Samples k diverse points per tagged class and k background points on every corpus image, then trains the segmenter (2 epochs, batch 100).")

        @Option(help: "Points per class per image (k).") var points: Int = 20
        @Option(help: "Sampling: diverse, top, spatial or dense.") var sampling: String = "diverse"
        @Option(help: "Segmenter epochs.") var epochs: Int = 2
        @Option(help: "Folder the bundles' corpus paths are relative to (default: as recorded in each bundle).") var dataRoot: String?
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var backbone: BackboneOptions

        func run() throws {
            guard let strategy = SamplingStrategy(rawValue: sampling) else {
                throw ValidationError("--sampling must be one of \(SamplingStrategy.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            let (registry, weights) = try registryOptions.open(backbone: backbone)
            var retrainer = SegmenterRetrainer(extractor: try HypercolumnExtractor(weightsAt: weights),
                                               cache: try cacheOptions.open(weights: weights))
            retrainer.sampler.strategy = strategy
            retrainer.sampler.pointsPerClass = points
            retrainer.trainer.epochs = epochs
            retrainer.dataRoot = dataRoot
            var sampleBar: ProgressReporter?
            var trainBar: ProgressReporter?
            let result = try retrainer.retrain(registry) { phase in
                switch phase {
                case .sampling(let done, let total):
                    if sampleBar == nil { sampleBar = ProgressReporter(total: total, label: "sampling") }
                    sampleBar?.advance()
                    if done == total { sampleBar?.finish() }
                case .training(let fraction):
                    if trainBar == nil { trainBar = ProgressReporter(total: 1000, label: "segmenter") }
                    trainBar?.update(to: Int(fraction * 1000))
                }
            }
            trainBar?.finish()
            try result.segmenter.save(to: registry.segmenterPath)
            print(String(format: "segmenter: %d classes, %d points from %d images; sampling %.1f s, training %.1f s, final loss %.3f",
                         registry.segmenterClasses.count, result.points, result.images,
                         result.samplingSeconds, result.trainingSeconds, result.report.epochLosses.last ?? .nan))
            print("written to \(registry.segmenterPath)")
        }
    }
}
