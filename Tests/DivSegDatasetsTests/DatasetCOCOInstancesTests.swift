import DivSegDatasets
import DivSegIO
import Foundation
import Testing

/// Standard-COCO reading on a small synthetic instances file: polygons, RLE, compressed RLE,
/// crowd, overlap order, box-only and empty images.
@Suite("Dataset COCO instances (synthetic)")
struct DatasetCOCOInstancesTests {
    static let width = 10, height = 8

    /// A pseudo-random pattern used both as uncompressed and compressed RLE.
    static let pattern: [Bool] = (0..<(width * height)).map { i in
        let x = i % width, y = i / width
        return (x * 3 + y * 5) % 7 < 3
    }

    /// Writes `annotations/instances_val2017.json` and the images it names into `fixture`.
    static func writeLayout(_ fixture: DatasetFixture) throws {
        let runs = DatasetFixture.runs(pattern, width: width, height: height)
        let crowdColumn = [9 * height, height]   // column x = 9, every row
        let json = """
        {"images": [
          {"id": 1, "file_name": "img1.jpg", "width": \(width), "height": \(height)},
          {"id": 2, "file_name": "img2.jpg", "width": \(width), "height": \(height)},
          {"id": 3, "file_name": "img3.jpg", "width": \(width), "height": \(height)},
          {"id": 4, "file_name": "img4.jpg", "width": \(width), "height": \(height)},
          {"id": 5, "file_name": "img5.jpg", "width": \(width), "height": \(height)}],
         "categories": [{"id": 1, "name": "person"}, {"id": 5, "name": "airplane"},
                        {"id": 25, "name": "giraffe"}],
         "annotations": [
          {"id": 10, "image_id": 1, "category_id": 5, "iscrowd": 0,
           "segmentation": [[2, 2, 6, 2, 6, 5, 2, 5]]},
          {"id": 11, "image_id": 1, "category_id": 25, "iscrowd": 0,
           "segmentation": [[0, 0, 10, 0, 10, 8, 0, 8]]},
          {"id": 12, "image_id": 1, "category_id": 1, "iscrowd": 1,
           "segmentation": {"size": [\(height), \(width)], "counts": \(crowdColumn)}},
          {"id": 20, "image_id": 2, "category_id": 25, "iscrowd": 0,
           "segmentation": {"size": [\(height), \(width)], "counts": \(runs)}},
          {"id": 30, "image_id": 3, "category_id": 25, "iscrowd": 0,
           "segmentation": {"size": [\(height), \(width)], "counts": "\(DatasetFixture.compressedRLE(runs))"}},
          {"id": 40, "image_id": 4, "category_id": 1, "iscrowd": 0, "segmentation": [],
           "bbox": [1, 1, 3, 3]}]}
        """
        try fixture.write("annotations/instances_val2017.json", json)
        for i in 1...5 { try fixture.write("val2017/img\(i).jpg", "not decoded by the reader") }
    }

    @Test("polygons fill pixel centres; smaller instances win overlaps; crowd is 255")
    func polygonsOverlapCrowd() throws {
        let fixture = try DatasetFixture("coco-syn")
        defer { fixture.remove() }
        try Self.writeLayout(fixture)
        let dataset = try Dataset.open(spec: "coco:" + fixture.root, split: nil)
        #expect(dataset.samples.map(\.id) == ["img1", "img2", "img3", "img4", "img5"])
        #expect(dataset.samples.allSatisfy { $0.split == "val2017" && $0.imageExists })
        #expect(dataset.samples[0].imagePath == fixture.path("val2017/img1.jpg"))

        let sample = dataset.samples[0]
        #expect(sample.tags == ["aeroplane", "giraffe"])   // the crowd person is no tag
        let truth = try #require(try sample.groundTruth(classes: ["aeroplane", "giraffe"]))
        #expect(truth.width == Self.width && truth.height == Self.height)
        for y in 0..<Self.height {
            for x in 0..<Self.width {
                let expected: UInt8 = x == 9 ? 255 : ((2...5).contains(x) && (2...4).contains(y) ? 1 : 2)
                #expect(truth.labels[y * Self.width + x] == expected, "pixel (\(x), \(y))")
            }
        }
        // The aeroplane, listed first but smaller, keeps its pixels even when it is not asked for.
        let giraffeOnly = try #require(try sample.groundTruth(classes: ["giraffe"]))
        #expect(giraffeOnly.labels.filter { $0 == 0 }.count == 12)
        #expect(giraffeOnly.labels.filter { $0 == 255 }.count == Self.height)
    }

    @Test("uncompressed and compressed RLE decode to the same mask")
    func runLengths() throws {
        let fixture = try DatasetFixture("coco-rle")
        defer { fixture.remove() }
        try Self.writeLayout(fixture)
        let dataset = try Dataset.open(spec: "coco:" + fixture.root + "/annotations/instances_val2017.json", split: "val")
        #expect(dataset.name == "instances_val2017")
        let expected = Self.pattern.map { $0 ? UInt8(1) : 0 }
        let plain = try #require(try dataset.sample(id: "img2")?.groundTruth(classes: ["giraffe"]))
        let compressed = try #require(try dataset.sample(id: "img3")?.groundTruth(classes: ["giraffe"]))
        #expect(plain.labels == expected)
        #expect(compressed.labels == expected)
    }

    @Test("box-only images have tags but no ground truth; unannotated images are background")
    func boxOnlyAndEmpty() throws {
        let fixture = try DatasetFixture("coco-box")
        defer { fixture.remove() }
        try Self.writeLayout(fixture)
        let dataset = try Dataset.open(spec: "coco:" + fixture.root, split: "val2017")
        let boxes = try #require(dataset.sample(id: "img4"))
        #expect(boxes.tags == ["person"])
        #expect(!boxes.hasGroundTruth)
        #expect(try boxes.groundTruth(classes: ["person"]) == nil)
        let empty = try #require(dataset.sample(id: "img5"))
        #expect(empty.tags.isEmpty)
        let truth = try #require(try empty.groundTruth(classes: ["person"]))
        #expect(truth.labels == [UInt8](repeating: 0, count: Self.width * Self.height))
    }

    @Test("COCO-mini layout: a missing mask PNG falls back to instances.json, else it is an error")
    func missingMaskFallback() throws {
        let fixture = try DatasetFixture("coco-minifallback")
        defer { fixture.remove() }
        try Self.writeLayout(fixture)
        try FileManager.default.moveItem(atPath: fixture.root + "/val2017", toPath: fixture.root + "/images")
        try fixture.write("tags.csv", """
            image,tags,split,mask\r
            img1.jpg,airplane;giraffe,val2017,masks/img1.png\r
            img4.jpg,person,val2017,\r

            """)
        let dataset = try Dataset.open(spec: "coco:" + fixture.root, split: "val")
        #expect(dataset.samples.map(\.id) == ["img1", "img4"])
        let img1 = try #require(dataset.sample(id: "img1"))
        #expect(img1.groundTruthFile == fixture.path("annotations/instances_val2017.json"))
        let truth = try #require(try img1.groundTruth(classes: ["giraffe"]))
        #expect(truth.labels.filter { $0 == 1 }.count == 9 * Self.height - 12)
        #expect(dataset.sample(id: "img4")?.hasGroundTruth == false)

        // A mask named for an image the JSON does not know → the mask file is reported missing.
        try fixture.write("images/other.jpg", "x")
        let csv = try fixture.write("tags.csv", "image,tags,split,mask\nother.jpg,cat,val2017,masks/other.png\n")
        #expect(throws: DatasetError.missingFile(path: fixture.root + "/masks/other.png", listedIn: csv, line: 2)) {
            try Dataset.open(spec: "coco:" + fixture.root, split: nil)
        }
    }

    @Test("corrupt compressed RLE and RLE of the wrong size are reported with the annotation id")
    func badAnnotations() throws {
        let fixture = try DatasetFixture("coco-bad")
        defer { fixture.remove() }
        let file = try fixture.write("annotations/instances_train2017.json", """
            {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 3},
                        {"id": 2, "file_name": "b.jpg", "width": 4, "height": 3}],
             "categories": [{"id": 1, "name": "person"}],
             "annotations": [
               {"id": 7, "image_id": 1, "category_id": 1, "segmentation": {"size": [3, 5], "counts": [2, 3]}},
               {"id": 8, "image_id": 2, "category_id": 1, "segmentation": {"size": [3, 4], "counts": "~~"}}]}
            """)
        let dataset = try Dataset.open(spec: "coco:" + fixture.root, split: "train")
        #expect(dataset.samples.allSatisfy { !$0.imageExists })
        do {
            _ = try dataset.sample(id: "a")?.groundTruth(classes: ["person"])
            Issue.record("an RLE of the wrong size was accepted")
        } catch {
            guard case .malformedAnnotation(let path, let id, let reason) = error else { Issue.record("\(error)"); return }
            #expect(path == fixture.path("annotations/instances_train2017.json") && path == file)
            #expect(id == 7)
            #expect(reason.contains("5×3"))
        }
        do {
            _ = try dataset.sample(id: "b")?.groundTruth(classes: ["person"])
            Issue.record("a corrupt compressed RLE was accepted")
        } catch {
            guard case .malformedAnnotation(_, let id, _) = error else { Issue.record("\(error)"); return }
            #expect(id == 8)
        }
    }
}
