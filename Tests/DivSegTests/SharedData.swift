import Foundation

/// Locations of the real data and weights in `../shared` (never copied into the repo).
/// `DIVSEG_SHARED` overrides the folder, for a checkout that is not beside `shared/`.
enum SharedData {
    static let root: String = {
        if let env = ProcessInfo.processInfo.environment["DIVSEG_SHARED"] { return env }
        // Tests/DivSegTests/SharedData.swift → repository root → ../shared
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared").path
    }()
    static var weights: String { root + "/models/vgg16_imagenet_notop.h5" }
    static var referenceDir: String { root + "/testdata/vgg16-reference" }
    static let referenceIDs = ["000000000025", "000000000061", "000000000136"]
}
