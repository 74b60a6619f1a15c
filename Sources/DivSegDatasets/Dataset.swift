import Foundation

/// A set of images with image-level tags (and, for COCO and VOC, pixel-level ground truth),
/// read from one of three layouts named by a spec string.
///
/// ```swift
/// let voc = try Dataset.open(spec: "voc:../shared/data/voc2012", split: "val")
/// print(voc.samples.count)                       // 1449
/// let usable = voc.availableOnly()               // only the samples whose JPEG is there
/// for sample in usable.samples {
///     let truth = try sample.groundTruth(classes: ClassNames.voc)
/// }
///
/// let coco = try Dataset.open(spec: "coco:../shared/data/coco-mini", split: "train")
/// print(coco.tagCounts()["giraffe"] ?? 0)
/// ```
public struct Dataset: Sendable {
    /// The layout a dataset was read from.
    public enum Kind: String, Sendable {
        case coco, voc, tags
    }

    /// A short name: the dataset folder's name (`coco-mini`, `VOC2012`), or the CSV/JSON
    /// file's name without extension.
    public var name: String
    /// The layout it was read from.
    public var kind: Kind
    /// The split it was opened with (nil = all images).
    public var split: String?
    /// The images, sorted by id.
    public private(set) var samples: [DatasetSample]

    /// A dataset from samples built elsewhere; they are sorted by id.
    ///
    /// ```swift
    /// let mine = Dataset(name: "mine", kind: .tags, samples: [
    ///     DatasetSample(id: "a", imagePath: "/photos/a.jpg", tags: ["cat"]),
    /// ])
    /// ```
    public init(name: String, kind: Kind, split: String? = nil, samples: [DatasetSample]) {
        self.name = name
        self.kind = kind
        self.split = split
        self.samples = samples.sorted { $0.id < $1.id }
    }

    /// Opens a dataset.
    ///
    /// **Specs**
    /// - `coco:DIR` — the COCO-mini layout when `DIR/tags.csv` exists (columns
    ///   `image,tags,split,mask`: images in `DIR/images/`, tags `;`-separated COCO names,
    ///   split `train2017`/`val2017`, mask = 8-bit gray PNG of COCO category ids relative to
    ///   `DIR`, named by `DIR/annotations/instances*.json`'s categories, or by the standard
    ///   COCO ids without that file; crowd annotations found there are painted 255 over the
    ///   PNG; a missing mask falls back to the instance annotations there). Otherwise the standard COCO layout: every
    ///   `DIR/annotations/instances*.json`, images in `DIR/<split>/` or `DIR/images/`; tags
    ///   and masks come from the instance annotations (polygons, RLE, compressed RLE).
    /// - `coco:FILE.json` — the standard layout with just that annotation file; images are
    ///   looked up beside its `annotations/` folder.
    /// - `voc:DIR` — `VOCdevkit/VOC2012` or a folder containing it: `JPEGImages/<id>.jpg`,
    ///   `SegmentationClass/<id>.png`, `ImageSets/Segmentation/<split>.txt`. Tags from
    ///   `Annotations/<id>.xml` (difficult objects count), else from `image_level_labels.csv`
    ///   beside the folders, else from the classes present in the mask. Samples whose JPEG
    ///   is missing are kept (``DatasetSample/imageExists`` is false; see ``availableOnly()``).
    /// - `tags:FILE.csv` — columns `path,tags` (optional `split`); paths relative to the CSV's
    ///   folder; tags `;`-separated, or space-separated when the field has no `;`; no masks.
    ///   Every listed image must exist.
    ///
    /// **Splits** — nil: every image (VOC: `trainval.txt`, else every mask). A name: VOC's
    /// list files (`train`, `val`, `trainval`, `train_aug`, …); for COCO and tags CSVs the
    /// samples' own split, where `train`/`val` also match `train2017`/`val2017` and
    /// `trainval` matches both. A path to a file of ids (one per line): exactly those images.
    ///
    /// Tags and class names are canonicalised with `names` (COCO "airplane" → "aeroplane").
    /// Samples are sorted by id.
    ///
    /// ```swift
    /// let coco = try Dataset.open(spec: "coco:/data/coco-mini", split: "val")   // 256 images
    /// let mine = try Dataset.open(spec: "tags:photos/tags.csv", split: nil)
    /// ```
    ///
    /// - Throws: ``DatasetError`` naming the spec, folder or file (and line) at fault.
    public static func open(spec: String, split: String? = nil,
                            names: ClassNames = .standard) throws(DatasetError) -> Dataset {
        guard let colon = spec.firstIndex(of: ":") else { throw .invalidSpec(spec: spec) }
        let prefix = spec[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let rawPath = spec[spec.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !rawPath.isEmpty, let kind = Kind(rawValue: prefix) else { throw .invalidSpec(spec: spec) }
        let path = absolute(rawPath)
        let request = try DatasetSplit.parse(split)

        let name: String
        var samples: [DatasetSample]
        switch kind {
        case .coco:
            (name, samples) = try COCOReader.open(path, names: names)
            samples = try request.select(samples, dataset: spec)
        case .voc:
            (name, samples) = try VOCReader.open(path, split: request, spec: spec, names: names)
        case .tags:
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .notFound(path: path, what: "tags CSV")
            }
            guard !isDirectory.boolValue else {
                throw .unrecognizedLayout(path: path, reason: "tags: takes a CSV file (columns path,tags), not a folder")
            }
            (name, samples) = try TagsCSVReader.open(path, names: names)
            samples = try request.select(samples, dataset: spec)
        }
        return Dataset(name: name, kind: kind, split: split, samples: samples)
    }

    /// The same dataset without the samples whose image file is missing.
    ///
    /// ```swift
    /// let voc = try Dataset.open(spec: "voc:../shared/data/voc2012", split: "val").availableOnly()
    /// voc.samples.map(\.id)   // ["2007_000129"]
    /// ```
    public func availableOnly() -> Dataset {
        var copy = self
        copy.samples = samples.filter(\.imageExists)
        return copy
    }

    /// The same dataset with only the samples `isIncluded` accepts (order kept).
    ///
    /// ```swift
    /// let giraffes = coco.filtered { $0.tags.contains("giraffe") }
    /// ```
    public func filtered(_ isIncluded: (DatasetSample) throws -> Bool) rethrows -> Dataset {
        var copy = self
        copy.samples = try samples.filter(isIncluded)
        return copy
    }

    /// How many samples carry each tag.
    ///
    /// ```swift
    /// coco.tagCounts()["giraffe"]   // 8
    /// ```
    public func tagCounts() -> [String: Int] {
        var counts: [String: Int] = [:]
        for sample in samples {
            for tag in sample.tags { counts[tag, default: 0] += 1 }
        }
        return counts
    }

    /// The sample with this id, if any (binary search over the sorted samples).
    ///
    /// ```swift
    /// let giraffe = coco.sample(id: "000000000025")
    /// ```
    public func sample(id: String) -> DatasetSample? {
        var low = 0, high = samples.count
        while low < high {
            let mid = (low + high) / 2
            if samples[mid].id < id { low = mid + 1 } else { high = mid }
        }
        return low < samples.count && samples[low].id == id ? samples[low] : nil
    }

    /// `~` expanded, made absolute against the working directory, `.`/`..` removed.
    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        return URL(fileURLWithPath: expanded).standardizedFileURL.path
    }
}
