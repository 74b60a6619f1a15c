import ArgumentParser
import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import DivSegDatasets
import DivSegExperiments

extension DivSegRegistry {
    /// `divseg-registry baseline-cam --dataset SPEC [--train-split train] [--eval-split val] [--json PATH]`.
    struct BaselineCAM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "baseline-cam",
            abstract: "Train and evaluate the CAM peer (docs/RESULTS.md) the method has to beat.",
            discussion: """
                A multi-label linear classifier (a sigmoid per class, Adam on binary cross-entropy) \
                on globally averaged block5_conv3 features, trained on the train split's tags. Class \
                maps = the class's weights applied to block5_conv3 at each location, divided by their \
                maximum, times the image probability, upsampled bilinearly; each pixel takes the \
                strongest class, or background where every map is below a threshold chosen by grid \
                search on the train split's masks (best training mIoU). Evaluated with the VOC protocol \
                on the eval split; prints the threshold search and the IoU table.
                """)

        @Option(help: "Dataset: coco:DIR, voc:DIR or tags:FILE.csv.") var dataset: String
        @Option(help: "Split to train on (tags) and choose the threshold on (masks).") var trainSplit: String = "train"
        @Option(help: "Split to evaluate on (masks).") var evalSplit: String = "val"
        @Option(help: "Comma-separated foreground classes (default: the 20 PASCAL VOC classes).") var classes: String?
        @Option(parsing: .unconditional, help: "Training epochs (Adam, batches of 32 images), \(CAMTrainer.epochsRange.boundText).")
        var epochs: Int = 300
        @Option(parsing: .unconditional, help: "Adam learning rate, \(CAMTrainer.learningRateRange.boundText).")
        var learningRate: Float = 1e-3
        @Option(parsing: .unconditional, help: "Random seed of the batch order, 0...\(UInt64.max).") var seed: UInt64 = 0
        @Option(help: "Write the results (threshold search, training report, scores) as JSON to this file.") var json: String?
        @Option(help: "Save the trained baseline (JSON) to this file.") var save: String?
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var backbone: BackboneOptions

        /// What `--json` writes.
        struct Output: Encodable {
            var dataset: String
            var trainSplit: String
            var evalSplit: String
            var classes: [String]
            var threshold: Float
            var training: CAMTrainer.Report
            var evaluation: SegmentationScores.Summary
            var evalImages: Int
        }

        func validate() throws {
            try requireOption("epochs", epochs, in: CAMTrainer.epochsRange, "passes over the training images")
            try requireOption("learning-rate", learningRate, in: CAMTrainer.learningRateRange, "Adam step size")
        }

        func run() throws {
            // Checked before the long run: a device or folder there is refused at once.
            if let json { try RegularFile.checkOutput(json) }
            if let save { try RegularFile.checkOutput(save) }
            let names = classes.map { $0.split(separator: ",").map { ClassNames.canonical(String($0).trimmingCharacters(in: .whitespaces)) } }
                ?? ClassNames.voc
            let weights = try backbone.resolvedWeightsPath()
            let extractor = try HypercolumnExtractor(weightsAt: weights)
            let cache = try cacheOptions.open(weights: weights)
            let features = { (path: String) throws -> CompactHypercolumns in try cache.features(for: path, extractor: extractor) }
            let train = try Dataset.open(spec: dataset, split: trainSplit).availableOnly()
            let eval = try Dataset.open(spec: dataset, split: evalSplit).availableOnly().filtered(\.hasGroundTruth)
            guard !train.samples.isEmpty else { throw ValidationError("No images in \(dataset) (split \(trainSplit)).") }
            guard !eval.samples.isEmpty else { throw ValidationError("No images with masks in \(dataset) (split \(evalSplit)).") }

            var trainer = CAMTrainer()
            trainer.epochs = epochs
            trainer.learningRate = learningRate
            trainer.seed = seed
            var bar: ProgressReporter?
            let (cam, report) = try trainer.train(samples: train.samples, classes: names, features: features) { p in
                switch p {
                case .features(let done, let total):
                    if bar == nil { bar = ProgressReporter(total: total, label: "features") }
                    bar?.update(to: done)
                    if done == total { bar?.finish(); bar = nil }
                case .training(let epoch, let epochs, _):
                    if bar == nil { bar = ProgressReporter(total: epochs, label: "classifier") }
                    bar?.update(to: epoch)
                    if epoch == epochs { bar?.finish(); bar = nil }
                case .threshold(let done, let total):
                    if bar == nil { bar = ProgressReporter(total: total, label: "threshold") }
                    bar?.update(to: done)
                    if done == total { bar?.finish(); bar = nil }
                }
            }
            print(String(format: "CAM classifier: %d images (%d with masks), %d classes, %d epochs, final loss %.4f, "
                         + "training tag accuracy %.1f %%, exact tag sets %.1f %%, %.1f s",
                         report.images, report.imagesWithMasks, names.count, epochs, report.epochLosses.last ?? .nan,
                         100 * report.trainingAccuracy, 100 * report.exactMatchRate, report.seconds))
            print("threshold search on the \(trainSplit) masks (mIoU %):")
            for candidate in report.thresholdCandidates {
                let miou = candidate.meanIoU.map { String(format: "%.2f", $0) } ?? "-"
                print(String(format: "  %.2f  ", candidate.threshold) + miou
                      + (candidate.threshold == report.threshold ? "  <- chosen" : ""))
            }
            if let save { try cam.save(to: save) }

            var evalBar = ProgressReporter(total: eval.samples.count, label: "evaluate")
            let scores = try PredictionEvaluator.evaluate(samples: eval.samples, classes: names,
                                                          progress: { _, _ in evalBar.advance() }) { sample, size in
                try cam.predict(features: try features(sample.imagePath), imageSize: size)
            }
            evalBar.finish()
            print("CAM baseline on \(dataset) \(evalSplit) (\(eval.samples.count) images, threshold \(report.threshold)):")
            print(scores.table(), terminator: "")
            if let json {
                let output = Output(dataset: dataset, trainSplit: trainSplit, evalSplit: evalSplit, classes: names,
                                    threshold: report.threshold, training: report, evaluation: scores.summary,
                                    evalImages: eval.samples.count)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                try RegularFile.writeAtomically(try encoder.encode(output), to: json)
            }
        }
    }
}
