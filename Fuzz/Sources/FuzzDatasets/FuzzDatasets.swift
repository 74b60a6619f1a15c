import DivSeg
import FuzzSupport
import Foundation

// Bytes → the dataset readers behind `tags:` and `coco:`, in sandbox folders whose images/
// and masks/ are symbolic links to the real COCO-mini data in ../shared (read only):
//   - tags/tags.csv                     → Dataset.open("tags:…")
//   - mini/tags.csv (COCO-mini layout)  → Dataset.open("coco:mini")
//   - json/annotations/instances.json   → Dataset.open("coco:….json")
// and the ground truth (mask PNGs, rasterised polygons and RLE) of the first samples. A
// thrown DatasetError is a pass.
let sandbox = Sandbox("datasets")
let coco = sharedRoot + "/data/coco-mini"

let prepared: Bool = {
    let fm = FileManager.default
    sandbox.folder("tags")
    for name in (try? fm.contentsOfDirectory(atPath: coco + "/images")) ?? [] {
        try? fm.createSymbolicLink(atPath: sandbox.path("tags/" + name), withDestinationPath: coco + "/images/" + name)
    }
    for layout in ["mini", "json"] {
        sandbox.folder(layout)
        try? fm.createSymbolicLink(atPath: sandbox.path(layout + "/images"), withDestinationPath: coco + "/images")
        try? fm.createSymbolicLink(atPath: sandbox.path(layout + "/masks"), withDestinationPath: coco + "/masks")
    }
    sandbox.folder("json/annotations")
    return true
}()

func exercise(_ spec: String) {
    guard let dataset = try? Dataset.open(spec: spec, split: nil) else { return }
    _ = dataset.tagCounts()
    for sample in dataset.samples.prefix(3) {
        _ = try? sample.groundTruth(classes: ClassNames.voc)
        _ = try? sample.groundTruth(classes: sample.tags.sorted())
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDatasets(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    precondition(prepared)
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    exercise("tags:" + sandbox.write("tags/tags.csv", bytes))
    sandbox.write("mini/tags.csv", bytes)
    exercise("coco:" + sandbox.path("mini"))
    exercise("coco:" + sandbox.write("json/annotations/instances.json", bytes))
    return 0
}

@_cdecl("FuzzDatasets_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzDatasets)
}
