// Example: train a class bundle from image-level tags and add it to a registry, through the
// façade (what `divseg-registry train` + `divseg-registry add` do).
//
//   swift run -c release AddClass CLASS TAGS_CSV REGISTRY [--localizer cam|mlp] [--hidden N]
//                                 [--cache DIR] [--weights PATH]
//
// TAGS_CSV has the header `path,tags` and one image per line with its `;`-separated tags.
// The localizer (CAM-style by default; `--localizer mlp --hidden N` for the paper's) learns
// CLASS from the images tagged with it against the untagged ones; the registry (created if
// missing) then retrains its segmenter, reusing its sample store.
import DivSegKit
import Foundation

/// Removes `name VALUE` from `arguments` and returns VALUE.
func takeOption(_ name: String, from arguments: inout [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    defer { arguments.removeSubrange(index...(index + 1)) }
    return arguments[index + 1]
}
var arguments = Array(CommandLine.arguments.dropFirst())
var localizer = BundleTrainer()   // the library's defaults unless told otherwise
if let kind = takeOption("--localizer", from: &arguments).flatMap(LocalizerKind.init(rawValue:)) { localizer.kind = kind }
if let hidden = takeOption("--hidden", from: &arguments).flatMap(Int.init) { localizer.trainer.hiddenUnits = hidden }
let cacheDirectory = takeOption("--cache", from: &arguments)
let weights = takeOption("--weights", from: &arguments)
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: AddClass CLASS TAGS_CSV REGISTRY [--localizer cam|mlp] [--hidden N] [--cache DIR] [--weights PATH]\n".utf8))
    exit(2)
}
let (className, tagsCSV, registryPath) = (arguments[0], arguments[1], arguments[2])

do {
    let registry = try Backbone.load(weightsAt: weights).registry(at: registryPath, featureCache: cacheDirectory)
    // Trains the bundle in a scratch folder, validates it, copies it in under the registry's
    // lock and retrains the segmenter: all or nothing.
    let change = try registry.add(trainingClass: className, from: "tags:" + tagsCSV, localizer: localizer)
    print(change.summary)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
