import DivSegIO

/// Where a sample's ground truth comes from, and how to turn it into a label map for a given
/// class list. Internal: ``DatasetSample/groundTruth(classes:)`` is the public face.
enum GroundTruthSource: Sendable {
    /// No pixel-level ground truth.
    case none
    /// A label PNG (palette indices or gray values). `valueNames` maps a raw value to its
    /// canonical class name; 0 is background, 255 stays "ignore", any other value missing from
    /// `valueNames` becomes "ignore" too. `crowd` regions (COCO `iscrowd` annotations of the
    /// same image) are painted 255 on top.
    case labelPNG(path: String, valueNames: [Int: String], crowd: CrowdOverlay?)
    /// COCO instance annotations to rasterise at `width`×`height`.
    case instances(file: String, width: Int, height: Int, instances: [COCOInstance],
                   categoryNames: [Int: String])

    struct CrowdOverlay: Sendable {
        var file: String
        var width: Int
        var height: Int
        var instances: [COCOInstance]
    }

    /// The file holding the ground truth (mask PNG or annotation JSON), if any.
    var file: String? {
        switch self {
        case .none: return nil
        case .labelPNG(let path, _, _): return path
        case .instances(let file, _, _, _, _): return file
        }
    }

    /// Renders the label map: class `classes[i]` (canonical) → `i + 1`, any other class → 0,
    /// ignore → 255.
    func render(classes: [String]) throws(DatasetError) -> LabelMap? {
        var labelOf: [String: UInt8] = [:]
        for (i, name) in classes.enumerated() where labelOf[name] == nil { labelOf[name] = UInt8(i + 1) }
        switch self {
        case .none:
            return nil

        case .labelPNG(let path, let valueNames, let crowd):
            var map: LabelMap
            do { map = try ImageDecoder.decodeLabels(contentsOf: path) } catch { throw .unreadableMask(error) }
            var table = [UInt8](repeating: 255, count: 256)
            table[0] = 0
            for (value, name) in valueNames where (0..<256).contains(value) && value != 0 && value != 255 {
                table[value] = labelOf[name] ?? 0
            }
            map.labels = map.labels.map { table[Int($0)] }
            if let crowd, !crowd.instances.isEmpty {
                guard crowd.width == map.width && crowd.height == map.height else {
                    throw .malformedAnnotation(
                        path: crowd.file, annotationID: crowd.instances.first?.annotationID,
                        reason: "the image is \(crowd.width)×\(crowd.height) there but its mask '\(path)' is \(map.width)×\(map.height)")
                }
                for instance in crowd.instances {
                    for p in try instance.pixels(width: map.width, height: map.height, file: crowd.file) {
                        map.labels[Int(p)] = 255
                    }
                }
            }
            return map

        case .instances(let file, let width, let height, let instances, let categoryNames):
            // Paint order: larger instances first, so a smaller object on top of a larger one
            // keeps its pixels ("smaller wins"); equal areas keep file order (later wins).
            // Crowd regions are painted last, as 255 (ignore), over everything.
            var things: [(area: Int, order: Int, label: UInt8, pixels: [Int32])] = []
            var crowd: [[Int32]] = []
            for (order, instance) in instances.enumerated() {
                let pixels = try instance.pixels(width: width, height: height, file: file)
                if instance.isCrowd {
                    crowd.append(pixels)
                } else {
                    // A category the file does not name is unknown: ignore rather than guess.
                    let label = categoryNames[instance.categoryID].map { labelOf[$0] ?? 0 } ?? 255
                    things.append((pixels.count, order, label, pixels))
                }
            }
            things.sort { $0.area != $1.area ? $0.area > $1.area : $0.order < $1.order }
            var labels = [UInt8](repeating: 0, count: width * height)
            for thing in things {
                for p in thing.pixels { labels[Int(p)] = thing.label }
            }
            for region in crowd {
                for p in region { labels[Int(p)] = 255 }
            }
            return LabelMap(width: width, height: height, labels: labels)
        }
    }
}
