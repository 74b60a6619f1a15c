import ArgumentParser
import DivSegCore

/// The `divseg-registry` command: a thin shell over the DivSeg libraries. Each subcommand
/// parses its arguments, calls one public library API, and reports the result.
@main
struct DivSegRegistry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "divseg-registry",
        abstract: "Weakly supervised semantic segmentation from image-level tags, with per-class plug-in bundles.",
        version: DivSegVersion.number,
        subcommands: [List.self, Show.self, Add.self, Remove.self, Verify.self, Train.self, Retrain.self,
                      Segment.self, Localize.self, Evaluate.self, Features.self, BaselineCAM.self, Diagnose.self,
                      Experiment.self, Config.self, Doctor.self, GC.self]
    )

    static func main() {
        // Many images in one process: let them reuse each other's freed feature memory.
        AllocatorTuning.reuseFreedMemory()
        do {
            var command = try parseAsRoot()
            if !(command is Doctor) { try checkBLAS() }
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    /// Refuses to start without a BLAS library, and warns once when its kernels run far below
    /// the CPU's speed. `doctor` reports both itself, in more detail.
    private static func checkBLAS() throws {
        let blas = BLASRuntime.current
        if let error = blas.loadError {
            printError("Error: \(error)")
            throw ExitCode(1)
        }
        if let warning = blas.performanceWarning { printError("warning: \(warning)") }
    }
}
