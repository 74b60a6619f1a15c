import DivSegIO

/// Why a dataset could not be opened or a sample's ground truth could not be read.
///
/// Every case names the file (or the spec) involved, and ``description`` is a sentence that
/// says what to do:
///
/// ```swift
/// do {
///     _ = try Dataset.open(spec: "voc:/data/VOC2012", split: "tset")
/// } catch {
///     print(error)   // Unknown split 'tset' for 'voc:/data/VOC2012'. Valid: train, trainval, val, …
/// }
/// ```
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    /// The spec is not `coco:PATH`, `voc:PATH` or `tags:FILE.csv`.
    case invalidSpec(spec: String)
    /// A folder or file the dataset needs does not exist. `what` says which role it has
    /// ("dataset folder", "split list", …).
    case notFound(path: String, what: String)
    /// The folder exists but does not have the layout the spec's kind requires.
    case unrecognizedLayout(path: String, reason: String)
    /// The split is neither a known split name of this dataset nor an existing list file.
    case unknownSplit(split: String, dataset: String, valid: [String])
    /// A CSV file lacks a required column in its header (line 1).
    case missingColumn(path: String, column: String, header: [String])
    /// A line of a CSV or list file cannot be read. `line` is 1-based (the header is line 1).
    case malformedRow(path: String, line: Int, reason: String)
    /// A file named on `line` of `listedIn` (an image or a mask) does not exist.
    case missingFile(path: String, listedIn: String, line: Int)
    /// An id on `line` of the split list `path` is not an image of the dataset.
    case unknownID(id: String, path: String, line: Int)
    /// Two rows (or annotation entries) describe the same image id.
    case duplicateID(id: String, path: String, line: Int)
    /// A JSON annotation file cannot be parsed or lacks a required field.
    case malformedJSON(path: String, reason: String)
    /// One annotation of a COCO instances file is unusable (bad polygon, RLE of the wrong
    /// size, …). `annotationID` is the annotation's `id` field when it has one.
    case malformedAnnotation(path: String, annotationID: Int?, reason: String)
    /// A ground-truth mask could not be decoded; the wrapped error names the file.
    case unreadableMask(ImageError)
    /// ``DatasetSample/groundTruth(classes:)`` was asked for more classes than an 8-bit label
    /// map can hold (254: labels 1…254, 255 is "ignore").
    case tooManyClasses(count: Int)

    /// The file (or spec) the error is about.
    public var path: String {
        switch self {
        case .invalidSpec(let spec): return spec
        case .notFound(let path, _), .unrecognizedLayout(let path, _),
             .missingColumn(let path, _, _), .malformedRow(let path, _, _),
             .missingFile(let path, _, _), .unknownID(_, let path, _),
             .duplicateID(_, let path, _), .malformedJSON(let path, _),
             .malformedAnnotation(let path, _, _):
            return path
        case .unknownSplit(_, let dataset, _): return dataset
        case .unreadableMask(let error): return error.path
        case .tooManyClasses: return ""
        }
    }

    /// One or two sentences naming the file, the problem and what to do about it.
    public var description: String {
        switch self {
        case .invalidSpec(let spec):
            return "Cannot understand the dataset spec '\(spec)'. Use coco:DIR (COCO-mini "
                + "folder with tags.csv, or a COCO folder with annotations/instances_*.json), "
                + "coco:FILE.json, voc:DIR (VOCdevkit/VOC2012 or a folder containing it) or "
                + "tags:FILE.csv (columns path,tags)."
        case .notFound(let path, let what):
            return "The \(what) '\(path)' does not exist. Check the path (relative paths are "
                + "taken from the working directory)."
        case .unrecognizedLayout(let path, let reason):
            return "'\(path)' is not a dataset of the expected layout: \(reason)."
        case .unknownSplit(let split, let dataset, let valid):
            let names = valid.isEmpty ? "this dataset has no named splits" : "valid: " + valid.joined(separator: ", ")
            return "Unknown split '\(split)' for '\(dataset)' (\(names)). Pass one of those, "
                + "omit the split to use every image, or give the path of a file listing image ids."
        case .missingColumn(let path, let column, let header):
            return "'\(path)' has no column '\(column)' (its header line is "
                + "'\(header.joined(separator: ","))'). Add the column to line 1."
        case .malformedRow(let path, let line, let reason):
            return "'\(path)', line \(line): \(reason). Fix or remove that line."
        case .missingFile(let path, let listedIn, let line):
            return "'\(path)', named on line \(line) of '\(listedIn)', does not exist. Restore "
                + "the file or remove that line."
        case .unknownID(let id, let path, let line):
            return "'\(path)', line \(line): image id '\(id)' is not in the dataset. Remove "
                + "it from the list or check that the list belongs to this dataset."
        case .duplicateID(let id, let path, let line):
            return "'\(path)', line \(line): image id '\(id)' appears a second time. Keep one "
                + "entry per image."
        case .malformedJSON(let path, let reason):
            return "Cannot read the annotation file '\(path)': \(reason). Re-download or "
                + "re-export it."
        case .malformedAnnotation(let path, let annotationID, let reason):
            let which = annotationID.map { "annotation \($0)" } ?? "an annotation"
            return "'\(path)': \(which) is unusable: \(reason). Fix or drop that annotation."
        case .unreadableMask(let error):
            return "Cannot read a ground-truth mask: \(error.description)"
        case .tooManyClasses(let count):
            return "Ground truth was requested for \(count) classes, but an 8-bit label map "
                + "holds at most 254 (label 255 means 'ignore'). Evaluate fewer classes at once."
        }
    }
}
