import ArgumentParser
import DivSeg
import DivSegCore
import DivSegIO
import DivSegRegistry
import Foundation
import DivSegDatasets
import DivSegExperiments

extension DivSegRegistry {
    /// `divseg-registry experiment --registry DIR --dataset SPEC --eval-split val [--compare-registry NAME=DIR …]`.
    struct Experiment: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reproduce the paper's Tables 1–3 and its CRF row on a dataset split in one run.",
            discussion: """
                For each variant — Table 1: dense (the default sampler), spatial, top and diverse \
                sampling (k = 20); Table 2: diverse with k = 1, 5, 10, 20, 50; Table 3: the registry \
                and every --compare-registry with the default sampler and with diverse k = 20; CRF: \
                the default and diverse k = 20 segmenters without and with the dense CRF — the \
                segmenter is retrained in memory (the registries' segmenter.h5 files are not touched; \
                picks go to and come from each registry's sample store) and evaluated on the split \
                with features from the feature cache. Each distinct setting runs once. Writes \
                experiments.md and experiments.json to --out (after every variant, so an interrupted \
                run keeps its rows) and prints the Markdown tables. Exit status 2 when a variant failed.
                """)

        @Option(help: "Dataset with masks: coco:DIR or voc:DIR.") var dataset: String
        @Option(help: "Split to evaluate on.") var evalSplit: String = "val"
        @Option(help: "Split the bundles were trained on (recorded; corpus images outside it are reported).") var trainSplit: String?
        @Option(name: .customLong("compare-registry"), parsing: .singleValue,
                help: ArgumentHelp("Another registry for Table 3, as NAME=DIR (repeatable).", valueName: "NAME=DIR"))
        var compareRegistries: [String] = []
        @Option(help: "Name of --registry in the tables.") var registryName: String = "registry"
        @Option(help: "Folder for experiments.md and experiments.json.") var out: String = "out/experiments"
        @Flag(help: "A few variants per table and at most 3 evaluation images (for tests).") var quick = false
        @Flag(help: "Print the report as JSON (the content of experiments.json) instead of the markdown tables.") var json = false
        @Option(parsing: .unconditional,
                help: "Evaluate at most this many images (first in id order), \(ExperimentRunner.evaluationLimitRange.boundText).")
        var limit: Int?
        @Option(help: "Tables to run, comma-separated: sampling, points, localizers, crf (default: all).") var tables: String?
        @Option(parsing: .unconditional, help: "Segmenter epochs, \(SegmenterTrainer.epochsRange.boundText).")
        var epochs: Int = 2
        @Option(help: "Folder that holds the registries' corpus images; repeatable (default: --dataset's folder, then as for retrain).")
        var dataRoot: [String] = []
        @Flag(help: "Also write each variant's segmenter to <out>/segmenters/.") var saveSegmenters = false
        @Flag(help: "Do not use the registries' sample stores (.samples/): re-sample every image.") var noSampleStore = false
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var backbone: BackboneOptions

        func validate() throws {
            if let limit { try requireOption("limit", limit, in: ExperimentRunner.evaluationLimitRange, "images") }
            try requireOption("epochs", epochs, in: SegmenterTrainer.epochsRange, "passes of the segmenter over the points")
            _ = try selectedTables()
            _ = try compareSets()
        }

        func selectedTables() throws -> Set<ExperimentVariant.Table>? {
            guard let tables else { return nil }
            var result = Set<ExperimentVariant.Table>()
            for name in tables.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let table = ExperimentVariant.Table(rawValue: name) else {
                    throw ValidationError("--tables takes \(ExperimentVariant.Table.allCases.map(\.rawValue).joined(separator: ", ")); not '\(name)'.")
                }
                result.insert(table)
            }
            return result
        }

        func compareSets() throws -> [(name: String, directory: String)] {
            try compareRegistries.map { value in
                guard let equals = value.firstIndex(of: "="), equals != value.startIndex, value.index(after: equals) != value.endIndex else {
                    throw ValidationError("--compare-registry takes NAME=DIR, not '\(value)'.")
                }
                return (String(value[..<equals]), String(value[value.index(after: equals)...]))
            }
        }

        func run() throws {
            let weights = try backbone.resolvedWeightsPath()
            var retrainer = SegmenterRetrainer(extractor: try HypercolumnExtractor(weightsAt: weights),
                                               cache: try cacheOptions.open(weights: weights))
            retrainer.trainer.epochs = epochs
            // After any --data-root, the evaluation data set's folder is the likeliest place
            // of the corpus images (the registries were usually trained on its other split).
            retrainer.dataRoots.explicit = dataRoot + [BundleTrainer.dataRoot(of: dataset)]
            var runner = try ExperimentRunner(localizerSets: [(registryName, registryOptions.directory)] + compareSets(),
                                              retrainer: retrainer, backbone: try BackboneIdentity.vgg16(weightsAt: weights))
            for set in runner.localizerSets {
                for problem in set.registry.problems { printError("warning: \(set.name): \(problem)") }
            }
            runner.useSampleStore = !noSampleStore
            runner.evaluationLimit = limit ?? (quick ? 3 : nil)
            runner.segmenterFolder = saveSegmenters ? (out as NSString).appendingPathComponent("segmenters") : nil
            runner.log = { printError("note: \($0)") }
            var plan = runner.standardPlan(quick: quick)
            if let selected = try selectedTables() { plan = plan.filter { selected.contains($0.table) } }

            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let command = (["divseg-registry"] + CommandLine.arguments.dropFirst()).map(Self.shellQuoted).joined(separator: " ")
            func write(_ report: ExperimentReport) throws {
                var report = report
                report.command = command
                try RegularFile.writeAtomically(Array(report.markdown().utf8),
                                                to: (out as NSString).appendingPathComponent("experiments.md"))
                try RegularFile.writeAtomically(try report.jsonData(),
                                                to: (out as NSString).appendingPathComponent("experiments.json"))
            }

            let display = ExperimentProgress()
            var report = try runner.run(plan, dataset: dataset, evalSplit: evalSplit, trainSplit: trainSplit,
                                        events: display.handle) { report in
                do { try write(report) } catch { printError("warning: cannot write the report to \(out): \(error)") }
            }
            report.command = command
            try write(report)
            if json {
                print(String(decoding: try report.jsonData(), as: UTF8.self))
            } else {
                print(report.markdown(), terminator: "")
            }
            printError("written to \((out as NSString).appendingPathComponent("experiments.md")) and experiments.json")
            if !report.failures.isEmpty {
                printError("error: \(report.failures.count) of \(report.rows.count) rows failed")
                throw ExitCode(2)
            }
        }

        static func shellQuoted(_ word: String) -> String {
            let safe = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./:=,@+"))
            if !word.isEmpty && word.unicodeScalars.allSatisfy(safe.contains) { return word }
            return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
    }
}

/// Progress bars (terminal only) and one note per finished retraining and row.
final class ExperimentProgress {
    private var bar: ProgressReporter?
    private var barKey = ""

    func handle(_ event: ExperimentRunner.Event) {
        switch event {
        case .retraining(let step, let steps, let variant, let phase):
            switch phase {
            case .plan(let plan):
                close()
                for line in plan.lines { printError("note: [\(step)/\(steps)] \(variant.id): \(line)") }
            case .sampling(let done, let total):
                show("[\(step)/\(steps)] \(variant.id): sampling", total: total, done: done)
            case .training(let fraction):
                show("[\(step)/\(steps)] \(variant.id): segmenter", total: 1000, done: Int(fraction * 1000))
            }
        case .retrained(let variant, let points, let samples, let seconds):
            close()
            printError("note: \(variant.id): \(points) points, \(Int(seconds.rounded())) s; samples: \(samples.summary)")
        case .evaluating(let step, let steps, let variant, let done, let total):
            show("[\(step)/\(steps)] \(variant.id): evaluate", total: total, done: done)
        case .finished(let row):
            close()
            if let error = row.error {
                printError("error: \(row.id): \(error)")
            } else if row.repeatOf == nil, let mIoU = row.mIoU {
                let voc = row.vocMIoU.map { ", bg + VOC " + String(format: "%.1f", $0) } ?? ""
                printError("note: \(row.id): mIoU " + String(format: "%.1f", mIoU) + "\(voc) (\(Int((row.wallSeconds ?? 0).rounded())) s)")
            }
        }
    }

    private func show(_ label: String, total: Int, done: Int) {
        if label != barKey {
            close()
            bar = ProgressReporter(total: total, label: label)
            barKey = label
        }
        bar?.update(to: done)
    }

    private func close() {
        if let bar, bar.completed > 0 { bar.finish() }
        bar = nil
        barKey = ""
    }
}
