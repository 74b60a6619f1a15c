import ArgumentParser
import DivSeg
import DivSegRegistry

extension DivSegRegistry {
    /// `divseg-registry retrain [--registry DIR]`.
    struct Retrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the shared segmenter for the bundles in the registry.",
            discussion: """
                Labels points of every corpus image from the bundles' localizers — by default \
                \(SegmenterRetrainer.defaultSampler.strategy.rawValue) labels: every \
                \(SegmenterRetrainer.defaultSampler.denseStride)th grid row and column, a class where its \
                scaled score reaches \(SegmenterRetrainer.defaultSampler.denseThreshold), else background \
                (--sampling diverse with --points k is the paper's k diverse points per tagged class \
                and k background points) — then trains the segmenter (\(SegmenterTrainer().epochs) epochs, \
                batch \(SegmenterTrainer().batchSize)), then \(SegmenterRetrainer.defaultSelfTraining.rounds) \
                self-training rounds unless --self-training-rounds or labels.json say otherwise \
                (each relabels the points with the segmenter's prediction restricted to the image's \
                tags and background, and trains again). Picks already in the sample store \
                (<cache>/samples by default; config sample-store) are reused; --max-memory streams them. Runs under the registry's lock and replaces the \
                segmenter atomically.
                """)

        @OptionGroup var retrainOptions: RetrainOptions
        @Flag(help: "Print the result as JSON instead of text.") var json = false
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var backbone: BackboneOptions

        func run() throws {
            let editor = try retrainOptions.editor(registry: registryOptions, backbone: backbone, cache: cacheOptions,
                                                   retraining: true)
            for problem in try Registry.open(editor.directory, backbone: editor.backbone).problems {
                printError("warning: \(problem)")
            }
            let progress = PhaseProgress()
            let report = try editor.retrain(progress: progress.update)
            progress.finish()
            if json { try JSONOutput.print(ChangeOutput(report)) } else {
                print(report.summary)
                print("written to \(report.registry.segmenterPath)")
            }
            try retrainOptions.rememberDataRoot(registry: registryOptions)
        }
    }
}
