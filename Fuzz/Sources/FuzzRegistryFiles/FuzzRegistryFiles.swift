import DivSeg
import DivSegRegistry
import Foundation
import FuzzSupport

// Bytes → each registry file a command reads, each inside a sandbox registry built from two
// real bundles of `classes/` (manifest, localizer, corpus) and the real labels.json:
//   - a bundle's manifest.json   → Registry.open (ClassBundle validation, localizer hash)
//   - labels.json                → LabelLedger.read, then Registry.open
//   - .transaction.json          → Registry.open, which rolls the journal forward
//   - corpus.csv                 → ClassBundle.corpus()
// The journal registry is rebuilt for every input (recovery moves and deletes files) and
// sits three folders deep in the sandbox, so that a journal escaping its registry would
// still stay in the sandbox. A thrown error is a pass.
let sandbox = Sandbox("registry")
let realBundles = ["aeroplane", "bicycle"]

func copyBundle(_ name: String, into registry: String, manifest: Bool = true) {
    sandbox.folder(registry + "/" + name)
    for file in ["localizer.h5", "corpus.csv"] + (manifest ? ["manifest.json"] : []) {
        sandbox.copy(registryRoot + "/" + name + "/" + file, to: registry + "/" + name + "/" + file)
    }
}

let prepared: Bool = {
    for registry in ["manifest", "ledger"] {
        sandbox.folder(registry)
        for name in realBundles { copyBundle(name, into: registry, manifest: !(registry == "manifest" && name == "aeroplane")) }
    }
    sandbox.copy(registryRoot + "/labels.json", to: "manifest/labels.json")
    return true
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegistryFiles(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    precondition(prepared)
    let bytes = UnsafeRawBufferPointer(start: data, count: size)

    // The whole registry is opened only for inputs its reader accepts (and the journal
    // replayed only for JSON): most mutants are refused by the parser alone, and opening a
    // registry costs ~100 times more.
    sandbox.write("manifest/aeroplane/manifest.json", bytes)
    if (try? BundleManifest.read(from: sandbox.path("manifest/aeroplane/manifest.json"))) != nil,
       let registry = try? Registry.open(sandbox.path("manifest"), backbone: nil) {
        for bundle in registry.bundles { _ = try? bundle.corpus() }
    }

    sandbox.write("ledger/labels.json", bytes)
    if (try? LabelLedger.read(registry: sandbox.path("ledger"))) != nil {
        _ = try? Registry.open(sandbox.path("ledger"), backbone: nil)
    }

    sandbox.write("corpus.csv", bytes)
    _ = try? CorpusFile.read(from: sandbox.path("corpus.csv"), bundle: "fuzz")

    guard (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil else { return 0 }
    let journal = "journal/a/b/registry"
    sandbox.reset("journal")
    sandbox.folder(journal)
    copyBundle("aeroplane", into: journal)
    sandbox.copy(registryRoot + "/labels.json", to: journal + "/labels.json")
    sandbox.write(journal + "/.transaction.json", bytes)
    _ = try? Registry.open(sandbox.path(journal), backbone: nil)
    return 0
}

@_cdecl("FuzzRegistryFiles_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRegistryFiles)
}
