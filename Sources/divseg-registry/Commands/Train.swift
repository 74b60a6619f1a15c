import ArgumentParser
import DivSeg
import DivSegCore
import DivSegRegistry
import Foundation
import DivSegDatasets

extension DivSegRegistry {
    /// `divseg-registry train CLASS --dataset SPEC [--split S] --out DIR`.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a class bundle (localizer) from image-level tags.",
            discussion: """
                Positives are the images tagged CLASS, negatives as many images not tagged with it \
                (seeded). Schedule: 2 epochs at the learning rate, 1 at a tenth, Adam, batch 1. \
                Writes manifest.json, localizer.h5 (float16) and corpus.csv into --out. The bundle \
                records its corpus as kind and folder name (e.g. coco:coco-mini) and each image's \
                path relative to that folder with its SHA-256, never a path of this machine.
                """)

        @Argument(help: "Class name (dataset aliases such as COCO 'airplane' are accepted).") var className: String
        @Option(help: "Dataset: coco:DIR, voc:DIR or tags:FILE.csv.") var dataset: String
        @Option(help: "Split: train, val, trainval or a file of image ids.") var split: String?
        @Option(name: .shortAndLong, help: "Bundle directory to write (e.g. classes/giraffe).") var out: String
        @Option(help: "Localizer: mlp (the paper's max-pooled hypercolumn MLP) or cam (CAM-style, average-pooled block5_conv3).")
        var localizer: String = LocalizerKind.cam.rawValue
        @Option(help: "MIL loss of the mlp localizer: global-softmax (paper default) or pixel-softmax.") var loss: String = LocalizerLoss.globalSoftmax.rawValue
        @Option(parsing: .unconditional,
                help: "Hidden units of the mlp localizer: 1 or more, and few enough to train in this machine's physical memory.")
        var hidden: Int = 1024
        @Option(parsing: .unconditional,
                help: "Learning rate of the first epochs (Adam), \(LocalizerTrainer.learningRateRange.boundText).")
        var learningRate: Float = 1e-4
        @Option(parsing: .unconditional,
                help: "Negative images drawn per positive, \(BundleTrainer.negativesPerPositiveRange.boundText), inf = every untagged image (default: 1 for mlp as in the paper, every untagged image for cam).")
        var negativesPerPositive: Double?
        @Option(parsing: .unconditional, help: "Random seed, 0...\(UInt64.max) (same inputs + seed ⇒ identical weights).")
        var seed: UInt64 = 1
        @Flag(help: "Replace an existing bundle at --out (atomically). Other files there are never replaced.")
        var force = false
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var backbone: BackboneOptions

        func validate() throws {
            // The memory a setting needs is estimated by the library that allocates it.
            if let problem = LocalizerTrainer.hiddenUnitsProblem(hidden) {
                throw ValidationError("--hidden is \(hidden) but must be \(problem) "
                    + "(the paper uses \(LocalizerTrainer().hiddenUnits)).")
            }
            try requireOption("learning-rate", learningRate, in: LocalizerTrainer.learningRateRange, "Adam step size")
            if let negativesPerPositive {
                try requireOption("negatives-per-positive", negativesPerPositive, in: BundleTrainer.negativesPerPositiveRange,
                                  "negative images per positive; inf = every untagged image")
            }
        }

        func run() throws {
            guard let loss = LocalizerLoss(rawValue: loss) else {
                throw ValidationError("--loss must be one of \(LocalizerLoss.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            guard let kind = LocalizerKind(rawValue: localizer) else {
                throw ValidationError("--localizer must be one of \(LocalizerKind.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            // Before loading anything: a target that would be lost is refused at once.
            try BundleTarget.check(out, replace: force)
            let weights = try backbone.resolvedWeightsPath()
            let extractor = try HypercolumnExtractor(weightsAt: weights)
            let data = try Dataset.open(spec: dataset, split: split)
            var trainer = BundleTrainer()
            trainer.kind = kind
            trainer.trainer.loss = loss
            trainer.trainer.hiddenUnits = hidden
            trainer.trainer.learningRate = learningRate
            trainer.trainer.seed = seed
            trainer.negativesPerPositive = negativesPerPositive
            trainer.replaceExisting = force
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
            // Caveats such as accuracy measured on the training images belong beside the figure.
            for note in report.notes { printError("warning: \(note)") }
            print(report.summary)
            print("bundle written to \(bundle.directory) (scoreScale \(bundle.manifest.scoreScale))")
            // The bundle records no machine path; say where its images are for add/retrain.
            print("corpus \(bundle.manifest.training.corpus): corpus.csv paths are relative to "
                  + "\(BundleTrainer.dataRoot(of: data, spec: dataset)) (pass it as --data-root to add/retrain if it is not found by default)")
        }
    }
}
