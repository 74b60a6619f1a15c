import ArgumentParser
import DivSegRegistry

extension DivSegRegistry {
    /// `divseg-registry retrain [--registry DIR]`.
    struct Retrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the shared segmenter for the bundles in the registry.",
            discussion: """
                Samples k diverse points per tagged class and k background points on every corpus \
                image, then trains the segmenter (2 epochs, batch 100). Picks already in the \
                sample store (<registry>/.samples) are reused. Runs under the registry's lock and \
                replaces the segmenter atomically.
                """)

        @OptionGroup var retrainOptions: RetrainOptions
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
            print(report.summary)
            print("written to \(report.registry.segmenterPath)")
            try retrainOptions.rememberDataRoot(registry: registryOptions)
        }
    }
}
