import ArgumentParser
import DivSegRegistry
import Foundation

/// `--registry DIR`, defaulting to `$DIVSEG_REGISTRY` or `./classes`.
struct RegistryOptions: ParsableArguments {
    @Option(name: .long, help: "Registry folder of class bundles (default: $DIVSEG_REGISTRY or ./classes).")
    var registry: String?

    var directory: String {
        registry ?? ProcessInfo.processInfo.environment["DIVSEG_REGISTRY"] ?? "classes"
    }

    /// Opens the registry and reports unusable bundles on standard error.
    func open(backbone: BackboneOptions) throws -> (Registry, String) {
        let weights = try backbone.resolvedWeightsPath()
        let registry = try Registry.open(directory, backbone: try BackboneIdentity.vgg16(weightsAt: weights))
        for problem in registry.problems { printError("warning: \(problem)") }
        return (registry, weights)
    }
}
