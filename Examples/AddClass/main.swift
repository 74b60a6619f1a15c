// Example: train a class bundle from image-level tags and add it to a registry, through
// the library API (what `divseg-registry train` + `divseg-registry add` do).
//
//   swift run -c release AddClass CLASS TAGS_CSV REGISTRY [--localizer cam|mlp] [--hidden N]
//                                 [--cache DIR] [--weights PATH]
//
// TAGS_CSV has the header `path,tags` and one image per line with its `;`-separated tags.
// The localizer (CAM-style by default; `--localizer mlp --hidden N` for the paper's) learns
// CLASS from the images tagged with it against the untagged ones; the registry (created if
// missing) then retrains its segmenter, reusing its sample store.
import DivSeg
import DivSegIO
import DivSegRegistry
import Foundation

/// Removes `name VALUE` from `arguments` and returns VALUE.
func takeOption(_ name: String, from arguments: inout [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    defer { arguments.removeSubrange(index...(index + 1)) }
    return arguments[index + 1]
}
var arguments = Array(CommandLine.arguments.dropFirst())
let hidden = takeOption("--hidden", from: &arguments).flatMap(Int.init) ?? 1024
let kind = takeOption("--localizer", from: &arguments).flatMap(LocalizerKind.init(rawValue:)) ?? .cam
let cacheDirectory = takeOption("--cache", from: &arguments) ?? ".divseg-cache/features"
let weightsOption = takeOption("--weights", from: &arguments)
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: AddClass CLASS TAGS_CSV REGISTRY [--localizer cam|mlp] [--hidden N] [--cache DIR] [--weights PATH]\n".utf8))
    exit(2)
}
let (className, tagsCSV, registryPath) = (arguments[0], arguments[1], arguments[2])

do {
    let weights = try WeightsLocator.resolve(weightsOption)
    let extractor = try HypercolumnExtractor(weightsAt: weights)
    let cache = try FeatureCache(directory: cacheDirectory, weightsAt: weights)
    let backbone = try BackboneIdentity.vgg16(weightsAt: weights)

    // 1. Train the bundle into a scratch folder.
    let spec = "tags:" + tagsCSV
    let dataset = try Dataset.open(spec: spec)
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("addclass-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    var trainer = BundleTrainer()
    trainer.kind = kind
    trainer.trainer.hiddenUnits = hidden
    let (bundle, report) = try trainer.train(className: className, dataset: dataset, spec: spec, extractor: extractor,
                                             cache: cache, backbone: backbone, to: scratch + "/" + className)
    print(report.summary)

    // 2. Add it: validated, copied into the registry under its lock, segmenter retrained.
    var retrainer = SegmenterRetrainer(extractor: extractor, cache: cache)
    // The bundle records only paths relative to its corpus folder; this process knows where
    // that folder is (`--data-root` on the command line).
    retrainer.dataRoots.explicit = [BundleTrainer.dataRoot(of: dataset, spec: spec)]
    let editor = RegistryEditor(directory: registryPath, backbone: backbone, retrainer: retrainer)
    let change = try editor.add(bundleAt: bundle.directory)
    print(change.summary)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
