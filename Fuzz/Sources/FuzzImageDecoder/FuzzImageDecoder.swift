import DivSegIO
import FuzzSupport

// PNG/JPEG bytes → both decoders (photos and label masks). Any thrown ImageError is a pass;
// a trap, sanitizer report, timeout or memory blow-up is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let image = try? ImageDecoder.decodeRGB(data: bytes, name: "fuzz") {
        precondition(image.pixels.count == image.width * image.height * 3, "RGB buffer size")
    }
    if let labels = try? ImageDecoder.decodeLabels(data: bytes, name: "fuzz") {
        precondition(labels.labels.count == labels.width * labels.height, "label buffer size")
    }
    return 0
}

@_cdecl("FuzzImageDecoder_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzImageDecoder)
}
