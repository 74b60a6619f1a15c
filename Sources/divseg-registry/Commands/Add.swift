import ArgumentParser
import DivSegRegistry

extension DivSegRegistry {
    /// `divseg-registry add BUNDLE_DIR [--no-retrain]`.
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a class bundle into the registry and retrain the segmenter.",
            discussion: """
                The bundle is validated first (manifest schema, file names, localizer hash and \
                weights, corpus, backbone) and refused with the reason if anything is wrong, or \
                if its name or an alias is already registered. Only images whose registered \
                classes changed are re-sampled (sample store: <cache>/samples by default, see config sample-store). The change \
                is all or nothing, also when interrupted.
                """)

        @Argument(help: "Bundle directory (manifest.json, localizer.h5, corpus.csv).") var bundle: String
        @Flag(help: "Do not retrain the segmenter (it is stale until `retrain`).") var noRetrain = false
        @Flag(help: "Print the result as JSON instead of text.") var json = false
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var retrainOptions: RetrainOptions
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var backbone: BackboneOptions

        func run() throws {
            let editor = try retrainOptions.editor(registry: registryOptions, backbone: backbone, cache: cacheOptions,
                                                   retraining: !noRetrain)
            let progress = PhaseProgress()
            let report = try editor.add(bundleAt: bundle, retrain: !noRetrain, progress: progress.update)
            progress.finish()
            if json { try JSONOutput.print(ChangeOutput(report)) } else { print(report.summary) }
            try retrainOptions.rememberDataRoot(registry: registryOptions)
        }
    }
}
