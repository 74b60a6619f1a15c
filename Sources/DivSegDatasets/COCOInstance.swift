/// One object annotation of a COCO instances file, kept as stored (polygons or RLE) and
/// rasterised only when a sample's ground truth is asked for.
struct COCOInstance: Sendable {
    enum Shape: Sendable {
        /// `segmentation` absent or an empty list: a box-only annotation, no mask.
        case none
        /// Polygons `[x0, y0, x1, y1, …]` in pixel coordinates (pixel (x, y) covers
        /// [x, x+1)×[y, y+1)); several polygons of one object are united.
        case polygons([[Double]])
        /// Uncompressed RLE: alternating run lengths of 0s and 1s over the image in column-major
        /// order, starting with 0s.
        case runs(height: Int, width: Int, counts: [Int])
        /// COCO's compressed RLE string (the LEB128-like encoding of pycocotools).
        case compressedRuns(height: Int, width: Int, counts: String)
    }

    var annotationID: Int?
    var categoryID: Int
    var isCrowd: Bool
    var shape: Shape

    var hasMask: Bool {
        switch shape {
        case .none: return false
        case .polygons(let polygons): return polygons.contains { $0.count >= 6 }
        case .runs, .compressedRuns: return true
        }
    }

    /// The indices `y * width + x` of the pixels this instance covers (sorted ascending for
    /// polygons, column order for RLE; no duplicates).
    ///
    /// - Polygons: the pixel is inside when its centre (x + 0.5, y + 0.5) is inside the polygon
    ///   by the even-odd rule; several polygons are united. Polygons with fewer than 3 points
    ///   are skipped.
    /// - RLE: its `size` must equal the image size.
    func pixels(width: Int, height: Int, file: String) throws(DatasetError) -> [Int32] {
        switch shape {
        case .none:
            return []
        case .polygons(let polygons):
            return try Self.fill(polygons, width: width, height: height, annotationID: annotationID, file: file)
        case .runs(let h, let w, let counts):
            try checkSize(h, w, width: width, height: height, file: file)
            return try Self.decodeRuns(counts, width: width, height: height, annotationID: annotationID, file: file)
        case .compressedRuns(let h, let w, let string):
            try checkSize(h, w, width: width, height: height, file: file)
            let counts = try Self.decompress(string, annotationID: annotationID, file: file)
            return try Self.decodeRuns(counts, width: width, height: height, annotationID: annotationID, file: file)
        }
    }

    private func checkSize(_ h: Int, _ w: Int, width: Int, height: Int, file: String) throws(DatasetError) {
        guard h == height && w == width else {
            throw .malformedAnnotation(path: file, annotationID: annotationID,
                                       reason: "its RLE size is \(w)×\(h) but the image is \(width)×\(height)")
        }
    }

    // MARK: - Polygons

    /// Scanline fill at pixel centres, even-odd rule per polygon, union over polygons.
    static func fill(_ polygons: [[Double]], width: Int, height: Int, annotationID: Int?,
                     file: String) throws(DatasetError) -> [Int32] {
        guard width > 0 && height > 0 else { return [] }
        var covered = [Bool](repeating: false, count: width * height)
        var crossings: [Double] = []
        // Bounding box of the covered pixels, so only it is scanned at the end.
        var top = height, bottom = -1, left = width, right = -1
        for polygon in polygons {
            guard polygon.count % 2 == 0 else {
                throw .malformedAnnotation(path: file, annotationID: annotationID,
                                           reason: "a polygon has an odd number of coordinates (\(polygon.count))")
            }
            guard polygon.allSatisfy({ $0.isFinite }) else {
                throw .malformedAnnotation(path: file, annotationID: annotationID,
                                           reason: "a polygon has a non-finite coordinate")
            }
            let n = polygon.count / 2
            if n < 3 { continue }
            var minY = Double.infinity, maxY = -Double.infinity
            for k in 0..<n { minY = min(minY, polygon[2 * k + 1]); maxY = max(maxY, polygon[2 * k + 1]) }
            // Rows whose centre y + 0.5 lies in [minY, maxY].
            let firstRow = max(0, Int((minY - 0.5).rounded(.up)))
            let lastRow = min(height - 1, Int((maxY - 0.5).rounded(.down)))
            if firstRow > lastRow { continue }
            for y in firstRow...lastRow {
                let yc = Double(y) + 0.5
                crossings.removeAll(keepingCapacity: true)
                for k in 0..<n {
                    let x1 = polygon[2 * k], y1 = polygon[2 * k + 1]
                    let j = (k + 1) % n
                    let x2 = polygon[2 * j], y2 = polygon[2 * j + 1]
                    // Half-open rule: an edge counts when yc is in [min y, max y).
                    if (y1 <= yc && yc < y2) || (y2 <= yc && yc < y1) {
                        crossings.append(x1 + (yc - y1) * (x2 - x1) / (y2 - y1))
                    }
                }
                crossings.sort()
                var c = 0
                while c + 1 < crossings.count {
                    // Centres x + 0.5 in [a, b).
                    let start = max(0, Int((crossings[c] - 0.5).rounded(.up)))
                    let end = min(width, Int((crossings[c + 1] - 0.5).rounded(.up)))
                    if start < end {
                        let row = y * width
                        for x in start..<end { covered[row + x] = true }
                        top = min(top, y); bottom = max(bottom, y)
                        left = min(left, start); right = max(right, end - 1)
                    }
                    c += 2
                }
            }
        }
        guard bottom >= 0 else { return [] }
        var result: [Int32] = []
        covered.withUnsafeBufferPointer { covered in
            for y in top...bottom {
                let row = y * width
                for x in left...right where covered[row + x] { result.append(Int32(row + x)) }
            }
        }
        return result
    }

    // MARK: - RLE

    /// Column-major runs (0s first) → row-major pixel indices.
    static func decodeRuns(_ counts: [Int], width: Int, height: Int, annotationID: Int?,
                           file: String) throws(DatasetError) -> [Int32] {
        let total = width * height
        var position = 0
        var result: [Int32] = []
        for (k, count) in counts.enumerated() {
            guard count >= 0, position + count <= total else {
                throw .malformedAnnotation(path: file, annotationID: annotationID,
                                           reason: "its RLE runs cover more than the image's \(total) pixels")
            }
            if k % 2 == 1 && count > 0 {
                var x = position / height, y = position % height
                for _ in 0..<count {
                    result.append(Int32(y * width + x))
                    y += 1
                    if y == height { y = 0; x += 1 }
                }
            }
            position += count
        }
        return result
    }

    /// Decodes pycocotools' compressed RLE string into run lengths.
    static func decompress(_ string: String, annotationID: Int?, file: String) throws(DatasetError) -> [Int] {
        let bytes = Array(string.utf8)
        var counts: [Int] = []
        var p = 0
        while p < bytes.count {
            var x = 0
            var k = 0
            var more = true
            while more {
                guard p < bytes.count, bytes[p] >= 48, bytes[p] < 48 + 64, k < 12 else {
                    throw .malformedAnnotation(path: file, annotationID: annotationID,
                                               reason: "its compressed RLE string is corrupt at character \(p)")
                }
                let c = Int(bytes[p]) - 48
                x |= (c & 0x1f) << (5 * k)
                more = (c & 0x20) != 0
                p += 1
                k += 1
                if !more && (c & 0x10) != 0 { x |= -1 << (5 * k) }
            }
            if counts.count > 2 { x += counts[counts.count - 2] }
            counts.append(x)
        }
        return counts
    }
}
