// Test-only: runs one registry change that ends the process at a commit step, for the crash
// tests of `DivSegCLITests` (a real process, killed where the journal says it was). Crash
// injection is `@_spi(Testing)` in the library and absent from `divseg-registry`; this
// executable is no product of the package.
//
//   RegistryCrashHarness crash:POINT|fail:POINT REGISTRY CACHE DATA_ROOT POINTS
//                        add BUNDLE [--no-retrain] | remove CLASS | retrain
//
// POINT is a CrashPoint (`staged`, `journal`, `op:N`, `applied`): `crash:` ends the process
// there, `fail:` makes that commit step fail (an I/O error) instead; the weights come from
// $DIVSEG_WEIGHTS (or the usual search path); the sample store is the registry's own
// (`<registry>/.samples`), like the CLI tests' other retraining commands.
import DivSeg
@_spi(Testing) import DivSegRegistry
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let mode = arguments.first.flatMap { $0.split(separator: ":", maxSplits: 1).first.map(String.init) }
guard arguments.count >= 6, mode == "crash" || mode == "fail",
      let point = CrashPoint(rawValue: String(arguments[0].dropFirst(mode!.count + 1))), let points = Int(arguments[4]) else {
    FileHandle.standardError.write(Data(("usage: RegistryCrashHarness crash:POINT|fail:POINT REGISTRY CACHE DATA_ROOT POINTS "
                                         + "add BUNDLE [--no-retrain] | remove CLASS | retrain\n").utf8))
    exit(2)
}
let (registry, cacheDirectory, dataRoot) = (arguments[1], arguments[2], arguments[3])
do {
    let weights = try WeightsLocator.resolve(nil)
    var retrainer = SegmenterRetrainer(extractor: try HypercolumnExtractor(weightsAt: weights),
                                       cache: try FeatureCache(directory: cacheDirectory, weightsAt: weights))
    retrainer.sampler.pointsPerClass = points
    retrainer.dataRoots = DataRoots(explicit: [dataRoot])
    var editor = RegistryEditor(directory: registry, backbone: try BackboneIdentity.vgg16(weightsAt: weights),
                                retrainer: retrainer)
    if mode == "crash" { editor.simulatedCrash = point } else { editor.simulatedFailure = point }
    let retrain = !arguments.contains("--no-retrain")
    switch (arguments[5], arguments.count > 6 ? arguments[6] : nil) {
    case ("add", let bundle?): try editor.add(bundleAt: bundle, retrain: retrain)
    case ("remove", let name?): try editor.remove(name)
    case ("retrain", nil): try editor.retrain()
    default:
        FileHandle.standardError.write(Data("unknown change: \(arguments.dropFirst(5))\n".utf8))
        exit(2)
    }
    print("the change finished without stopping at \(point.rawValue)")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
