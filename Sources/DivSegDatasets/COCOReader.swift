import Foundation

/// Reads the two COCO layouts behind `coco:PATH` (see ``Dataset/open(spec:split:names:)``).
enum COCOReader {
    /// `root` is absolute. Returns the dataset name and its samples (unsorted, unsplit).
    static func open(_ root: String, names: ClassNames) throws(DatasetError) -> (name: String, samples: [DatasetSample]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw .notFound(path: root, what: "COCO dataset folder")
        }
        if !isDirectory.boolValue {
            guard root.lowercased().hasSuffix(".json") else {
                throw .unrecognizedLayout(path: root, reason: "coco: takes a folder or a COCO instances .json file")
            }
            let file = try COCOAnnotationFile.load(root)
            let folder = (root as NSString).deletingLastPathComponent
            let imagesRoot = (folder as NSString).lastPathComponent == "annotations"
                ? (folder as NSString).deletingLastPathComponent : folder
            let name = ((root as NSString).lastPathComponent as NSString).deletingPathExtension
            return (name, try standardSamples([file], imagesRoot: imagesRoot, names: names))
        }
        let name = (root as NSString).lastPathComponent
        let annotationFiles = instanceFiles(in: root)
        let tagsCSV = root + "/tags.csv"
        if FileManager.default.fileExists(atPath: tagsCSV) {
            let files = try annotationFiles.map { (path) throws(DatasetError) in try COCOAnnotationFile.load(path) }
            return (name, try miniSamples(tagsCSV, root: root, annotations: files, names: names))
        }
        guard !annotationFiles.isEmpty else {
            throw .unrecognizedLayout(path: root, reason: "it has neither tags.csv (COCO-mini layout) nor "
                + "annotations/instances_*.json (COCO layout)")
        }
        let files = try annotationFiles.map { (path) throws(DatasetError) in try COCOAnnotationFile.load(path) }
        return (name, try standardSamples(files, imagesRoot: root, names: names))
    }

    /// `annotations/instances*.json`, else `instances*.json` at the top, sorted.
    static func instanceFiles(in root: String) -> [String] {
        for folder in [root + "/annotations", root] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            let found = entries.filter { $0.hasPrefix("instances") && $0.hasSuffix(".json") }.sorted()
            if !found.isEmpty { return found.map { folder + "/" + $0 } }
        }
        return []
    }

    // MARK: - COCO-mini: tags.csv + masks/*.png

    /// Rows of `image,tags[,split][,mask]`. Images are looked up in `images/` first, then
    /// beside tags.csv. Mask values are COCO category ids, named by the annotation files'
    /// categories (or the standard COCO table when there is no annotation file). Crowd
    /// annotations of the image in the JSON, if any, are painted 255 over the PNG. A row with
    /// no mask, or whose mask file is missing, gets its ground truth from the JSON when the
    /// image has complete instance masks there; a missing mask with no such fallback is an error.
    static func miniSamples(_ csv: String, root: String, annotations: [COCOAnnotationFile],
                            names: ClassNames) throws(DatasetError) -> [DatasetSample] {
        let table = try CSVTable.read(csv, what: "COCO-mini tags.csv")
        let imageColumn = try table.column("image")
        let tagsColumn = try table.column("tags")
        let splitColumn = table.optionalColumn("split")
        let maskColumn = table.optionalColumn("mask")

        var categories = standardCategories
        var entries: [String: (file: COCOAnnotationFile, image: COCOAnnotationFile.ImageEntry)] = [:]
        if !annotations.isEmpty {
            categories = [:]
            for file in annotations {
                categories.merge(file.categories) { old, _ in old }
                for image in file.images { entries[fileID(image.fileName)] = (file, image) }
            }
        }
        let valueNames = categories.mapValues(names.canonical)

        var samples: [DatasetSample] = []
        var seen: [String: Int] = [:]
        for row in table.rows {
            let image = row.fields[imageColumn].trimmingCharacters(in: .whitespaces)
            guard !image.isEmpty else {
                throw .malformedRow(path: csv, line: row.line, reason: "the 'image' field is empty")
            }
            let id = fileID(image)
            if seen[id] != nil { throw .duplicateID(id: id, path: csv, line: row.line) }
            seen[id] = row.line
            let candidates = image.hasPrefix("/") ? [image] : [root + "/images/" + image, root + "/" + image]
            guard let imagePath = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw .missingFile(path: candidates[0], listedIn: csv, line: row.line)
            }
            let tags = Set(row.fields[tagsColumn].split(separator: ";")
                .map { names.canonical(String($0)) }.filter { !$0.isEmpty })
            let entry = entries[id]
            var split = splitColumn.map { row.fields[$0].trimmingCharacters(in: .whitespaces) } ?? ""
            if split.isEmpty { split = entry?.image.split ?? "" }

            var source = GroundTruthSource.none
            let mask = maskColumn.map { row.fields[$0].trimmingCharacters(in: .whitespaces) } ?? ""
            let maskPath = mask.isEmpty ? nil : (mask.hasPrefix("/") ? mask : root + "/" + mask)
            if let maskPath, FileManager.default.fileExists(atPath: maskPath) {
                var crowd: GroundTruthSource.CrowdOverlay? = nil
                if let entry, let instances = entry.file.instances[entry.image.id] {
                    let crowds = instances.filter { $0.isCrowd && $0.hasMask }
                    if !crowds.isEmpty {
                        crowd = .init(file: entry.file.path, width: entry.image.width,
                                      height: entry.image.height, instances: crowds)
                    }
                }
                source = .labelPNG(path: maskPath, valueNames: valueNames, crowd: crowd)
            } else if let entry, let instancesSource = instanceSource(entry.file, entry.image, valueNames) {
                source = instancesSource
            } else if let maskPath {
                throw .missingFile(path: maskPath, listedIn: csv, line: row.line)
            }
            samples.append(DatasetSample(id: id, imagePath: imagePath, tags: tags,
                                         split: split.isEmpty ? nil : split, source: source, names: names))
        }
        return samples
    }

    // MARK: - Standard COCO: instances_*.json + image folders

    /// Tags are the categories of the image's non-crowd annotations (box-only ones included).
    /// The split is the image's `split` field if it has one, else the annotation file's suffix
    /// (`instances_val2017.json` → `val2017`). The image is looked for in `<split>/`,
    /// `images/<split>/`, `images/` and the folder itself; if it is in none, the first of those
    /// is recorded and ``DatasetSample/imageExists`` is false.
    static func standardSamples(_ files: [COCOAnnotationFile], imagesRoot: String,
                                names: ClassNames) throws(DatasetError) -> [DatasetSample] {
        var samples: [DatasetSample] = []
        var origin: [String: String] = [:]
        for file in files {
            let categories = file.categories.isEmpty ? standardCategories : file.categories
            let valueNames = categories.mapValues(names.canonical)
            let base = ((file.path as NSString).lastPathComponent as NSString).deletingPathExtension
            let fileSplit = base.hasPrefix("instances_") ? String(base.dropFirst("instances_".count)) : nil
            for image in file.images {
                let id = fileID(image.fileName)
                if let other = origin[id] {
                    throw .malformedJSON(path: file.path, reason: "image '\(id)' is listed twice "
                        + "(also in '\(other)'); keep one entry per image")
                }
                origin[id] = file.path
                let split = image.split ?? fileSplit
                var candidates: [String] = []
                if image.fileName.hasPrefix("/") {
                    candidates = [image.fileName]
                } else {
                    if let split {
                        candidates += [imagesRoot + "/" + split + "/" + image.fileName,
                                       imagesRoot + "/images/" + split + "/" + image.fileName]
                    }
                    candidates += [imagesRoot + "/images/" + image.fileName, imagesRoot + "/" + image.fileName]
                }
                let imagePath = candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
                let instances = file.instances[image.id] ?? []
                let tags = Set(instances.filter { !$0.isCrowd }
                    .compactMap { categories[$0.categoryID].map(names.canonical) })
                samples.append(DatasetSample(id: id, imagePath: imagePath, tags: tags, split: split,
                                             source: instanceSource(file, image, valueNames) ?? .none,
                                             names: names))
            }
        }
        return samples
    }

    /// Ground truth from the instances when it is complete: every non-crowd annotation of the
    /// image has a mask (an image with no annotations at all is all background). An image
    /// with box-only annotations has unknown pixel truth → nil.
    static func instanceSource(_ file: COCOAnnotationFile, _ image: COCOAnnotationFile.ImageEntry,
                               _ valueNames: [Int: String]) -> GroundTruthSource? {
        let instances = file.instances[image.id] ?? []
        guard instances.allSatisfy({ $0.isCrowd || $0.hasMask }) else { return nil }
        return .instances(file: file.path, width: image.width, height: image.height,
                          instances: instances.filter(\.hasMask), categoryNames: valueNames)
    }

    /// `images/000000000025.jpg` → `000000000025`.
    static func fileID(_ fileName: String) -> String {
        ((fileName as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// The 80 COCO thing categories with their official ids, for files without `categories`.
    static let standardCategories: [Int: String] = {
        let names = [
            "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
            "traffic light", "fire hydrant", nil, "stop sign", "parking meter", "bench", "bird",
            "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", nil,
            "backpack", "umbrella", nil, nil, "handbag", "tie", "suitcase", "frisbee", "skis",
            "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard",
            "surfboard", "tennis racket", "bottle", nil, "wine glass", "cup", "fork", "knife",
            "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot",
            "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed", nil,
            "dining table", nil, nil, "toilet", nil, "tv", "laptop", "mouse", "remote",
            "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", nil,
            "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
        ]
        var table: [Int: String] = [:]
        for (i, name) in names.enumerated() { if let name { table[i + 1] = name } }
        return table
    }()
}
