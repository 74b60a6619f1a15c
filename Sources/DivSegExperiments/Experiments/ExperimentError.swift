import DivSeg
import DivSegCore
import DivSegIO
import DivSegRegistry
/// Why an experiment run (``ExperimentRunner``) cannot start.
///
/// Failures of a single variant (a retraining or an evaluation) do not stop a run: they are
/// recorded in that row of the ``ExperimentReport`` (``ExperimentReport/Row/error``).
///
/// ```swift
/// do {
///     _ = try ExperimentRunner(localizerSets: [], retrainer: retrainer, backbone: backbone)
/// } catch let error as ExperimentError {
///     print(error)   // "An experiment needs at least one registry of class bundles."
/// }
/// ```
public enum ExperimentError: Error, Equatable, CustomStringConvertible {
    /// No localizer set (registry) was given.
    case noRegistry
    /// Two localizer sets share a name.
    case duplicateName(String)
    /// A localizer-set name that cannot be used (empty, or with `/`, `=` or spaces).
    case invalidName(String)
    /// A registry has no usable bundles (`problems`: why its bundles were refused).
    case emptyRegistry(name: String, directory: String, problems: [String])
    /// A variant names a localizer set the runner does not have.
    case unknownLocalizers(variant: String, name: String, known: [String])
    /// Two variants of a plan share an id.
    case duplicateVariant(String)
    /// Nothing to evaluate on (no image with ground truth in the split).
    case noEvaluationImages(dataset: String, split: String?)
    /// The plan has no variants.
    case emptyPlan

    public var description: String {
        switch self {
        case .noRegistry:
            return "An experiment needs at least one registry of class bundles."
        case .duplicateName(let name):
            return "Two registries of the experiment are called '\(name)'; give each --compare-registry a distinct NAME."
        case .invalidName(let name):
            return "'\(name)' cannot name a registry in an experiment: use letters, digits, '-', '_' or '.'."
        case .emptyRegistry(let name, let directory, let problems):
            let detail = problems.isEmpty ? "" : " (" + problems.joined(separator: "; ") + ")"
            return "The registry '\(name)' at \(directory) has no usable class bundles\(detail)."
        case .unknownLocalizers(let variant, let name, let known):
            return "The variant '\(variant)' uses the registry '\(name)', which is not one of \(known.joined(separator: ", "))."
        case .duplicateVariant(let id):
            return "Two variants of the experiment plan have the id '\(id)'."
        case .noEvaluationImages(let dataset, let split):
            return "No images with ground truth in \(dataset) (split \(split ?? "all")): nothing to evaluate on."
        case .emptyPlan:
            return "The experiment plan has no variants."
        }
    }
}
