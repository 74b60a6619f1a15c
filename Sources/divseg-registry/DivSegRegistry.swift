import ArgumentParser
import DivSegCore

/// The `divseg-registry` command: a thin shell over the DivSeg libraries. Each subcommand
/// parses its arguments, calls one public library API, and reports the result.
@main
struct DivSegRegistry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "divseg-registry",
        abstract: "Weakly supervised semantic segmentation from image-level tags, with per-class plug-in bundles.",
        version: "0.1.0",
        subcommands: [List.self, Show.self, Add.self, Remove.self, Verify.self, Train.self, Retrain.self,
                      Segment.self, Localize.self, Evaluate.self, Features.self, BaselineCAM.self, Diagnose.self,
                      Experiment.self, Config.self]
    )

    static func main() {
        // Many images in one process: let them reuse each other's freed feature memory.
        AllocatorTuning.reuseFreedMemory()
        main(nil)
    }
}
