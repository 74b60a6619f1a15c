import DivSegIO
import Foundation

/// One image of a ``Dataset``: its id, where the image file is, its image-level tags and,
/// when the dataset has them, its pixel-level ground truth.
///
/// ```swift
/// let coco = try Dataset.open(spec: "coco:../shared/data/coco-mini", split: "train")
/// let sample = coco.samples.first { $0.tags.contains("giraffe") }!
/// let photo = try ImageDecoder.decodeRGB(contentsOf: sample.imagePath)
/// if let truth = try sample.groundTruth(classes: ["giraffe"]) {
///     let giraffePixels = truth.labels.filter { $0 == 1 }.count
/// }
/// ```
public struct DatasetSample: Sendable, Identifiable, CustomStringConvertible {
    /// The image id: the file name without extension (COCO `000000000025`, VOC
    /// `2007_000129`; for a tags CSV the listed path without extension).
    public let id: String
    /// Absolute path of the image file. It may not exist (see ``imageExists``).
    public let imagePath: String
    /// Image-level tags as canonical class names (``ClassNames/canonical(_:)``).
    public let tags: Set<String>
    /// The split the dataset assigns the image (`train2017`, `val`, …), when it says.
    public let split: String?

    let source: GroundTruthSource
    let names: ClassNames

    /// A sample without pixel-level ground truth; `tags` are canonicalised with `names`.
    ///
    /// ```swift
    /// let s = DatasetSample(id: "cat1", imagePath: "/photos/cat1.jpg", tags: ["Cat", "couch"])
    /// s.tags   // ["cat", "sofa"]
    /// ```
    public init(id: String, imagePath: String, tags: Set<String>, split: String? = nil,
                names: ClassNames = .standard) {
        self.init(id: id, imagePath: imagePath, tags: Set(tags.map(names.canonical)), split: split,
                  source: .none, names: names)
    }

    init(id: String, imagePath: String, tags: Set<String>, split: String?,
         source: GroundTruthSource, names: ClassNames) {
        self.id = id
        self.imagePath = imagePath
        self.tags = tags
        self.split = split
        self.source = source
        self.names = names
    }

    /// Whether the image file is on disk now (checked on every call). A VOC ground-truth copy
    /// without its JPEGs lists samples whose image is missing; ``Dataset/availableOnly()``
    /// drops them.
    public var imageExists: Bool {
        FileManager.default.fileExists(atPath: imagePath)
    }

    /// Whether ``groundTruth(classes:)`` can return a label map (a mask file or instance
    /// polygons are known for this image). Nothing is read to answer.
    public var hasGroundTruth: Bool {
        if case .none = source { return false }
        return true
    }

    /// The file the ground truth is read from: the mask PNG, or the COCO annotation JSON
    /// when the mask is rasterised from instance annotations; nil without ground truth.
    public var groundTruthFile: String? { source.file }

    /// The pixel-level ground truth at the image's original resolution, relabelled for
    /// `classes`, or nil when the dataset has none for this image.
    ///
    /// Each pixel is `i + 1` when it belongs to `classes[i]` (names are canonicalised, so
    /// "airplane" finds "aeroplane"), **0 for background and for every class not listed**,
    /// and 255 where the truth is unknown: VOC's boundary band, COCO crowd (`iscrowd`)
    /// regions, and mask values the dataset does not name. COCO masks rasterised from
    /// instances paint larger objects first, so where instances overlap the smaller one wins
    /// (equal areas: the later annotation wins); crowd regions are painted last. Polygons
    /// cover the pixels whose centre is inside them (even-odd rule).
    ///
    /// A class listed twice keeps its first index. Reads (and for COCO instances,
    /// rasterises) on every call; nothing is cached.
    ///
    /// ```swift
    /// let truth = try sample.groundTruth(classes: ClassNames.voc)   // VOC labels 0…20, 255
    /// ```
    ///
    /// - Throws: ``DatasetError/unreadableMask(_:)`` for a missing or damaged mask PNG,
    ///   ``DatasetError/malformedAnnotation(path:annotationID:reason:)`` for an unusable
    ///   polygon or RLE, ``DatasetError/tooManyClasses(count:)`` for more than 254 classes.
    public func groundTruth(classes: [String]) throws(DatasetError) -> LabelMap? {
        guard classes.count <= 254 else { throw .tooManyClasses(count: classes.count) }
        return try source.render(classes: classes.map(names.canonical))
    }

    public var description: String {
        "\(id) [\(tags.sorted().joined(separator: ", "))] \(imagePath)"
    }
}
