import Foundation

/// Locations of the real data and weights in the read-only `shared` folder (never copied
/// into the repository). Every test target finds it the same way: `DIVSEG_SHARED` when set,
/// otherwise the `shared` folder beside the package checkout — derived from this file's
/// path, so that neither the machine nor the working directory matters.
public enum SharedData {
    public static let root: String = {
        if let env = ProcessInfo.processInfo.environment["DIVSEG_SHARED"], !env.isEmpty { return env }
        // <package>/Tests/DivSegTestSupport/SharedData.swift → <package> → <package>/../shared
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return package.deletingLastPathComponent().appendingPathComponent("shared").standardized.path
    }()

    /// The package checkout these tests belong to (holds the shipped registry `classes/`).
    public static let package: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().standardized.path
    /// The default registry shipped in the repository.
    public static var shippedRegistry: String { package + "/classes" }

    /// Keras VGG-16 ImageNet weights without the classifier.
    public static var weights: String { root + "/models/vgg16_imagenet_notop.h5" }
    /// The coco-mini dataset (`coco:` spec root).
    public static var cocoMini: String { root + "/data/coco-mini" }
    public static var cocoMiniImages: String { cocoMini + "/images" }
    public static var cocoMiniMasks: String { cocoMini + "/masks" }
    /// The VOC 2012 subset (`voc:` spec root).
    public static var voc2012: String { root + "/data/voc2012" }
    public static var voc2012Masks: String { voc2012 + "/SegmentationClass" }
    /// Keras-computed VGG-16 activations and their input images.
    public static var referenceDir: String { root + "/testdata/vgg16-reference" }
    /// The images that have reference activations in ``referenceDir``.
    public static let referenceIDs = ["000000000025", "000000000061", "000000000136"]

    /// A coco-mini image by id, e.g. `cocoMiniImage("000000000025")`.
    public static func cocoMiniImage(_ id: String) -> String { cocoMiniImages + "/" + id + ".jpg" }
}
