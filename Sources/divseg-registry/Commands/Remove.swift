import ArgumentParser
import DivSegRegistry

extension DivSegRegistry {
    /// `divseg-registry remove CLASS [--no-retrain]`.
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a class from the registry and retrain the segmenter.",
            discussion: """
                CLASS is a class name or alias (or the directory name of a refused bundle). Its \
                label id stays reserved: no other class gets it, and adding the class again \
                restores it. Images that had the class are re-sampled; the rest reuse the sample \
                store. The change is all or nothing, also when interrupted.
                """)

        @Argument(help: "Class name or alias.") var className: String
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
            let report = try editor.remove(className, retrain: !noRetrain, progress: progress.update)
            progress.finish()
            if json { try JSONOutput.print(ChangeOutput(report)) } else { print(report.summary) }
            try retrainOptions.rememberDataRoot(registry: registryOptions)
        }
    }
}
