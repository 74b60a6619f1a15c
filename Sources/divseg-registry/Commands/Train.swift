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
                Positives are the images tagged CLASS. The default localizer, \(BundleTrainer().kind.rawValue) \
                (--localizer cam), is a logistic regression on average-pooled block5_conv3 trained \
                against every untagged image: \(camSchedule). The paper's localizer (--localizer mlp, \
                \(LocalizerTrainer().hiddenUnits) hidden units by default) is trained against \
                \(Int(LocalizerTrainer().negativesPerPositive)) untagged image per positive (seeded): \
                \(LocalizerTrainer().epochs) epochs at --learning-rate, \(LocalizerTrainer().fineTuneEpochs) at \
                \(LocalizerTrainer().fineTuneFactor)× that, Adam, batch 1. \
                Writes manifest.json, localizer.h5 (float16) and corpus.csv into --out. The bundle \
                records its corpus as kind and folder name (e.g. coco:coco-mini) and each image's \
                path relative to that folder with its SHA-256, never a path of this machine.
                """)

        @Argument(help: "Class name (dataset aliases such as COCO 'airplane' are accepted).") var className: String
        @Option(help: "Dataset: coco:DIR, voc:DIR or tags:FILE.csv.") var dataset: String
        @Option(help: "Split: train, val, trainval or a file of image ids (default: every image of the dataset).") var split: String?
        @Option(name: .shortAndLong, help: "Bundle directory to write (e.g. classes/giraffe).") var out: String
        /// The CAM-style localizer's schedule, from the library's defaults.
        static var camSchedule: String {
            let r = BundleTrainer().camTrainer.regression
            return "\(r.epochs) epochs, batch \(r.batchSize), Adam at learning rate \(r.learningRate), weight decay \(r.weightDecay)"
        }

        @Option(help: "Localizer: mlp (the paper's max-pooled hypercolumn MLP) or cam (CAM-style, average-pooled block5_conv3).")
        var localizer: LocalizerKind = BundleTrainer().kind
        @Option(help: "MIL loss of the mlp localizer: global-softmax (paper default) or pixel-softmax.") var loss: LocalizerLoss = LocalizerTrainer().loss
        @Option(parsing: .unconditional,
                help: "Hidden units of the mlp localizer: 1 or more, and few enough to train in this machine's physical memory.")
        var hidden: Int = LocalizerTrainer().hiddenUnits
        @Option(parsing: .unconditional,
                help: "Learning rate of the mlp localizer's first epochs (Adam), \(LocalizerTrainer.learningRateRange.boundText) (the cam localizer's is \(BundleTrainer().camTrainer.regression.learningRate)).")
        var learningRate: Float = LocalizerTrainer().learningRate
        @Option(parsing: .unconditional,
                help: "Negative images drawn per positive, \(BundleTrainer.negativesPerPositiveRange.boundText), inf = every untagged image (default: 1 for mlp as in the paper, every untagged image for cam).")
        var negativesPerPositive: Double?
        @Option(parsing: .unconditional, help: "Random seed, 0...\(UInt64.max) (same inputs + seed ⇒ identical weights).")
        var seed: UInt64 = LocalizerTrainer().seed
        @Flag(help: "Replace an existing bundle at --out (atomically). Other files there are never replaced.")
        var force = false
        @Flag(help: "Print JSON ({bundle, dataRoot, notes, summary, manifest}) instead of text.") var json = false
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
            let kind = localizer
            // Before loading anything: a target that would be lost is refused at once.
            try BundleTarget.check(out, replace: force)
            let weights = try backbone.resolvedWeightsPath()
            // Loaded only if an image is not in the feature cache (see BundleTrainer).
            let extractor = LazyHypercolumnExtractor(weightsAt: weights)
            let identity = try BackboneIdentity.vgg16(weightsAt: weights, digests: cacheOptions.digestMemo)
            let data = try Dataset.open(spec: dataset, split: split)
            var trainer = BundleTrainer()
            trainer.kind = kind
            trainer.trainer.loss = loss
            trainer.trainer.hiddenUnits = hidden
            trainer.trainer.learningRate = learningRate
            trainer.trainer.seed = seed
            trainer.negativesPerPositive = negativesPerPositive
            trainer.replaceExisting = force
            // Two phases, each with its own progress and estimate: features, then training.
            trainer.announce = { plan in printError("features: \(plan)") }
            let phases = PhaseProgress()
            var trainingAnnounced = false
            let (bundle, report) = try trainer.train(
                className: className, dataset: data, spec: dataset, extractor: extractor,
                cache: try cacheOptions.open(weightsSHA256: identity.weightsSHA256), backbone: identity,
                to: out
            ) { p in
                if p.step <= p.featureSteps {
                    phases.update(label: "features", done: p.step, total: p.featureSteps, unit: "image")
                    return
                }
                let (done, total) = (p.step - p.featureSteps, p.totalSteps - p.featureSteps)
                let unit = p.featureSteps > 0 ? "epoch" : "step"
                if !trainingAnnounced {
                    trainingAnnounced = true
                    phases.announce("training: \(className), \(total) \(unit)s")
                }
                phases.update(label: "training \(className)", done: done, total: total, unit: unit)
            }
            phases.finish()
            // Caveats such as accuracy measured on the training images belong beside the figure.
            for note in report.notes { printError("warning: \(note)") }
            if json {
                struct Output: Encodable {
                    var bundle: String
                    var dataRoot: String
                    var notes: [String]
                    var summary: String
                    var manifest: BundleManifest
                }
                try JSONOutput.print(Output(bundle: bundle.directory, dataRoot: BundleTrainer.dataRoot(of: data, spec: dataset),
                                            notes: report.notes, summary: report.summary, manifest: bundle.manifest))
                return
            }
            print(report.summary)
            print("bundle written to \(bundle.directory) (scoreScale \(bundle.manifest.scoreScale))")
            // The bundle records no machine path; say where its images are for add/retrain.
            print("corpus \(bundle.manifest.training.corpus): corpus.csv paths are relative to "
                  + "\(BundleTrainer.dataRoot(of: data, spec: dataset)) (pass it as --data-root to add/retrain if it is not found by default)")
        }
    }
}
