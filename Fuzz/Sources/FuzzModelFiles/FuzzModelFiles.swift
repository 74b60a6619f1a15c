import DivSeg
import DivSegIO
import FuzzSupport

// HDF5 bytes → every model-file loader: the VGG-16 weights (KerasWeights), localizer files
// (both architectures, LocalizerFile) and segmenter files (Segmenter). HDF5 opens files by
// name, so each input is written to a file in /dev/shm first. A thrown error is a pass.
let sandbox = Sandbox("models")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFiles(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let path = sandbox.write("model.h5", UnsafeRawBufferPointer(start: data, count: size))
    _ = try? KerasWeights(contentsOf: path)
    _ = try? LocalizerFile.load(contentsOf: path)
    _ = try? Segmenter(contentsOf: path)
    return 0
}

@_cdecl("FuzzModelFiles_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzModelFiles)
}
