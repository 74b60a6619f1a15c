import DivSegIO
import Foundation

/// The parts of a COCO instances JSON file the readers use: images, categories and the object
/// annotations grouped by image (in file order).
struct COCOAnnotationFile: Sendable {
    struct ImageEntry: Sendable {
        var id: Int
        var fileName: String
        var width: Int
        var height: Int
        /// Non-standard `split` field (COCO-mini has one); nil in the official files.
        var split: String?
    }

    let path: String
    var images: [ImageEntry]
    /// Category id → name as written in the file.
    var categories: [Int: String]
    /// Image id → its annotations in file order.
    var instances: [Int: [COCOInstance]]

    static func load(_ path: String) throws(DatasetError) -> COCOAnnotationFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .notFound(path: path, what: "COCO annotation file")
        }
        // Regular files only (a FIFO would block, a device never end), size checked first;
        // COCO's own train2017 instances file is under 0.5 GB.
        let data: Data
        do throws(FileAccessError) { data = Data(try RegularFile.readAll(path, limit: 4 << 30)) } catch {
            throw .malformedJSON(path: path, reason: "the file cannot be read: \(error.reason)")
        }
        let raw: RawFile
        do {
            raw = try JSONDecoder().decode(RawFile.self, from: data)
        } catch let error as DecodingError {
            throw .malformedJSON(path: path, reason: Self.explain(error))
        } catch {
            throw .malformedJSON(path: path, reason: "\(error)")
        }
        var categories: [Int: String] = [:]
        for category in raw.categories ?? [] { categories[category.id] = category.name }
        var instances: [Int: [COCOInstance]] = [:]
        for annotation in raw.annotations ?? [] {
            let shape: COCOInstance.Shape
            switch annotation.segmentation {
            case nil: shape = .none
            case .polygons(let polygons)?: shape = polygons.isEmpty ? .none : .polygons(polygons)
            case .runs(let size, let counts)?:
                guard size.count == 2 else {
                    throw .malformedAnnotation(path: path, annotationID: annotation.id,
                                               reason: "its RLE 'size' must be [height, width]")
                }
                shape = .runs(height: size[0], width: size[1], counts: counts)
            case .compressed(let size, let counts)?:
                guard size.count == 2 else {
                    throw .malformedAnnotation(path: path, annotationID: annotation.id,
                                               reason: "its RLE 'size' must be [height, width]")
                }
                shape = .compressedRuns(height: size[0], width: size[1], counts: counts)
            }
            instances[annotation.image_id, default: []].append(COCOInstance(
                annotationID: annotation.id, categoryID: annotation.category_id,
                isCrowd: (annotation.iscrowd ?? 0) != 0, shape: shape))
        }
        let images = raw.images.map {
            ImageEntry(id: $0.id, fileName: $0.file_name, width: $0.width, height: $0.height, split: $0.split)
        }
        return COCOAnnotationFile(path: path, images: images, categories: categories, instances: instances)
    }

    private static func explain(_ error: DecodingError) -> String {
        func at(_ path: [CodingKey]) -> String {
            let keys = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "" : " at \(keys)"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "the field '\(key.stringValue)' is missing\(at(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "unexpected value\(at(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            return "invalid JSON\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    // MARK: - JSON shapes

    private struct RawFile: Decodable {
        var images: [RawImage]
        var annotations: [RawAnnotation]?
        var categories: [RawCategory]?
    }

    private struct RawImage: Decodable {
        var id: Int
        var file_name: String
        var width: Int
        var height: Int
        var split: String?
    }

    private struct RawCategory: Decodable {
        var id: Int
        var name: String
    }

    private struct RawAnnotation: Decodable {
        var id: Int?
        var image_id: Int
        var category_id: Int
        var iscrowd: Int?
        var segmentation: RawSegmentation?
    }

    private enum RawSegmentation: Decodable {
        case polygons([[Double]])
        case runs(size: [Int], counts: [Int])
        case compressed(size: [Int], counts: String)

        private enum Keys: String, CodingKey { case size, counts }

        init(from decoder: Decoder) throws {
            if let polygons = try? decoder.singleValueContainer().decode([[Double]].self) {
                self = .polygons(polygons)
                return
            }
            let object = try decoder.container(keyedBy: Keys.self)
            let size = try object.decode([Int].self, forKey: .size)
            if let counts = try? object.decode([Int].self, forKey: .counts) {
                self = .runs(size: size, counts: counts)
            } else {
                self = .compressed(size: size, counts: try object.decode(String.self, forKey: .counts))
            }
        }
    }
}
