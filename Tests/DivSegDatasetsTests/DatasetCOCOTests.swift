import DivSegDatasets
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

@Suite("Dataset COCO-mini (real data)")
struct DatasetCOCOTests {
    static var folder: String { SharedData.cocoMini }
    static let mini = Result { () throws(DatasetError) in try Dataset.open(spec: "coco:" + folder, split: nil) }
    static let standard = Result { () throws(DatasetError) in
        try Dataset.open(spec: "coco:" + folder + "/annotations/instances.json", split: nil)
    }

    @Test("514 images, 258 train2017 and 256 val2017, sorted by id")
    func counts() throws {
        let all = try Self.mini.get()
        #expect(all.kind == .coco)
        #expect(all.name == "coco-mini")
        #expect(all.samples.count == 514)
        #expect(all.samples.map(\.id) == all.samples.map(\.id).sorted())
        #expect(all.samples.allSatisfy { $0.imagePath.hasPrefix("/") && $0.imagePath.hasSuffix("/images/\($0.id).jpg") })
        #expect(all.availableOnly().samples.count == 514)
        let train = try Dataset.open(spec: "coco:" + Self.folder, split: "train")
        let val = try Dataset.open(spec: "coco:" + Self.folder, split: "val")
        #expect(train.samples.count == 258)
        #expect(val.samples.count == 256)
        #expect(train.samples.allSatisfy { $0.split == "train2017" })
        #expect(try Dataset.open(spec: "coco:" + Self.folder, split: "val2017").samples.map(\.id) == val.samples.map(\.id))
        #expect(try Dataset.open(spec: "coco:" + Self.folder, split: "trainval").samples.count == 514)
    }

    @Test("tags: 8 giraffe, 12 elephant, COCO spellings canonicalised")
    func tags() throws {
        let counts = try Self.mini.get().tagCounts()
        #expect(counts["giraffe"] == 8)
        #expect(counts["elephant"] == 12)
        #expect(counts["airplane"] == nil)
        #expect((counts["aeroplane"] ?? 0) > 0)
        #expect(counts["dining table"] == nil && (counts["diningtable"] ?? 0) > 0)
        #expect(counts["couch"] == nil && counts["tv"] == nil && counts["motorcycle"] == nil)
        #expect((counts["teddy_bear"] ?? 0) > 0 && counts["teddy bear"] == nil)
        let giraffe = try #require(try Self.mini.get().sample(id: "000000000025"))
        #expect(giraffe.tags == ["giraffe"])
        #expect(try Self.mini.get().sample(id: "000000000081")?.tags == ["aeroplane"])
    }

    @Test("ground truth of 000000000025 for [giraffe] counts the mask PNG's COCO id 25")
    func giraffeTruth() throws {
        let sample = try #require(try Self.mini.get().sample(id: "000000000025"))
        #expect(sample.hasGroundTruth)
        #expect(sample.groundTruthFile == Self.folder + "/masks/000000000025.png")
        let truth = try #require(try sample.groundTruth(classes: ["giraffe"]))
        #expect(truth.width == 640 && truth.height == 426)
        #expect(Set(truth.labels) == [0, 1])
        // Expected count computed once with python3:
        //   (numpy.array(PIL.Image.open("coco-mini/masks/000000000025.png")) == 25).sum() == 22486
        // of 640 × 426 = 272640 pixels.
        #expect(truth.labels.filter { $0 == 1 }.count == 22486)
        let fraction = Double(truth.labels.filter { $0 == 1 }.count) / Double(truth.labels.count)
        #expect(abs(fraction - 22486.0 / 272640.0) < 1e-12)
        // Unlisted classes are background: the giraffe disappears when only VOC classes are asked.
        let voc = try #require(try sample.groundTruth(classes: ClassNames.voc))
        #expect(Set(voc.labels) == [0])
        // Class names are canonicalised too ("airplane" finds aeroplane masks).
        let plane = try #require(try Self.mini.get().sample(id: "000000000081"))
        let planeTruth = try #require(try plane.groundTruth(classes: ["giraffe", "airplane"]))
        #expect(planeTruth.labels.contains(2))
    }

    /// Issue #10 (COCO names with spaces): COCO's "traffic light" is the class
    /// `traffic_light` in the tags and in the ground truth, from the mask PNGs and from the
    /// instances JSON alike, whichever spelling the caller uses.
    @Test("'traffic light' images are tagged traffic_light and their ground truth finds the lights")
    func multiWordCategory() throws {
        for dataset in [try Self.mini.get(), try Self.standard.get()] {
            let lights = dataset.samples.filter { $0.tags.contains("traffic_light") }
            #expect(lights.count == 16, "coco-mini has 16 images tagged 'traffic light'")
            #expect(!dataset.samples.contains { $0.tags.contains { $0.contains(" ") } }, "no tag keeps a space")
            let sample = try #require(lights.first { $0.hasGroundTruth })
            for spelling in ["traffic_light", "traffic light", "Traffic Light"] {
                let truth = try #require(try sample.groundTruth(classes: ["person", spelling]))
                #expect(truth.labels.contains(2), "\(sample.id): no traffic-light pixel for '\(spelling)'")
            }
        }
    }

    @Test("the instances path rasterises 000000000025's giraffe within 95 % IoU of the PNG")
    func instancesAgreeWithPNG() throws {
        let standard = try Self.standard.get()
        #expect(standard.samples.count == 514)
        #expect(standard.tagCounts() == (try Self.mini.get().tagCounts()))
        let fromJSON = try #require(standard.sample(id: "000000000025"))
        #expect(fromJSON.imagePath == Self.folder + "/images/000000000025.jpg")
        #expect(fromJSON.split == "train2017")
        #expect(fromJSON.groundTruthFile == Self.folder + "/annotations/instances.json")
        let polygons = try #require(try fromJSON.groundTruth(classes: ["giraffe"]))
        let png = try #require(try Self.mini.get().sample(id: "000000000025")?.groundTruth(classes: ["giraffe"]))
        #expect(polygons.width == png.width && polygons.height == png.height)
        var intersection = 0, union = 0
        for (a, b) in zip(polygons.labels, png.labels) {
            if a == 1 && b == 1 { intersection += 1 }
            if a == 1 || b == 1 { union += 1 }
        }
        let iou = Double(intersection) / Double(union)
        #expect(iou >= 0.95, "IoU \(iou)")
    }

    @Test("crowd regions are 255 in both paths; box-only images have no ground truth")
    func crowdAndBoxOnly() throws {
        // 000000034417 has a crowd (iscrowd = 1) annotation in instances.json.
        for dataset in [try Self.mini.get(), try Self.standard.get()] {
            let crowd = try #require(dataset.sample(id: "000000034417"))
            let truth = try #require(try crowd.groundTruth(classes: ["person"]))
            #expect(truth.labels.contains(255))
            #expect(truth.labels.contains(1))
            // 000000000540 has only bounding boxes (no mask in tags.csv, empty segmentations).
            let boxes = try #require(dataset.sample(id: "000000000540"))
            #expect(!boxes.hasGroundTruth)
            #expect(try boxes.groundTruth(classes: ["aeroplane"]) == nil)
            #expect(boxes.tags.contains("aeroplane"))
        }
    }

    @Test("without an annotation file the standard COCO category ids name the mask values")
    func standardCategoryTable() throws {
        let fixture = try DatasetFixture("coco-noann")
        defer { fixture.remove() }
        try fixture.link("images", to: Self.folder + "/images")
        try fixture.link("masks", to: Self.folder + "/masks")
        try fixture.link("tags.csv", to: Self.folder + "/tags.csv")
        let dataset = try Dataset.open(spec: "coco:" + fixture.root, split: "train")
        #expect(dataset.samples.count == 258)
        let truth = try #require(try dataset.sample(id: "000000000025")?.groundTruth(classes: ["giraffe"]))
        #expect(truth.labels.filter { $0 == 1 }.count == 22486)
        #expect(dataset.sample(id: "000000000540")?.hasGroundTruth == false)
    }
}
