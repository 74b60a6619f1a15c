import DivSegDatasets
import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

@Suite("Dataset VOC 2012 (real ground truth)")
struct DatasetVOCTests {
    static var folder: String { SharedData.voc2012 }
    static let val = Result { () throws(DatasetError) in try Dataset.open(spec: "voc:" + folder, split: "val") }

    @Test("val has 1449 samples; only 2007_000129 has its JPEG")
    func valSplit() throws {
        let val = try Self.val.get()
        #expect(val.kind == .voc)
        #expect(val.name == "voc2012")
        #expect(val.split == "val")
        #expect(val.samples.count == 1449)
        #expect(val.samples.map(\.id) == val.samples.map(\.id).sorted())
        #expect(val.samples.allSatisfy { $0.hasGroundTruth && $0.split == "val" })
        let available = val.availableOnly()
        #expect(available.samples.map(\.id) == ["2007_000129"])
        #expect(available.samples[0].imagePath == Self.folder + "/JPEGImages/2007_000129.jpg")
        #expect(val.sample(id: "2007_000033")?.imageExists == false)
    }

    @Test("train, trainval and no split; train's available images are the four 2011 ones")
    func otherSplits() throws {
        let train = try Dataset.open(spec: "voc:" + Self.folder, split: "train")
        #expect(train.samples.count == 1464)
        #expect(train.availableOnly().samples.map(\.id) == ["2011_000003", "2011_000006", "2011_000025", "2011_003066"])
        #expect(try Dataset.open(spec: "voc:" + Self.folder, split: "trainval").samples.count == 2913)
        let all = try Dataset.open(spec: "voc:" + Self.folder, split: nil)
        #expect(all.samples.count == 2913)
        #expect(all.sample(id: "2007_000129")?.split == "val")
        #expect(all.sample(id: "2011_000003")?.split == "train")
    }

    @Test("ground truth of 2007_000129 with the VOC classes is the PNG itself")
    func groundTruth() throws {
        let sample = try #require(try Self.val.get().sample(id: "2007_000129"))
        let png = Self.folder + "/SegmentationClass/2007_000129.png"
        #expect(sample.groundTruthFile == png)
        let truth = try #require(try sample.groundTruth(classes: ClassNames.voc))
        #expect(truth.width == 334 && truth.height == 500)
        let allowed = Set<UInt8>((0...20).map(UInt8.init)).union([255])
        #expect(Set(truth.labels).isSubset(of: allowed))
        #expect(Set(truth.labels) == [0, 2, 15, 255])   // bicycle, person, boundary
        #expect(truth == (try ImageDecoder.decodeLabels(contentsOf: png)))
        // Relabelled for another class list: person → 1, bicycle → background, ignore stays.
        let person = try #require(try sample.groundTruth(classes: ["person"]))
        #expect(Set(person.labels) == [0, 1, 255])
        #expect(person.labels.filter { $0 == 1 }.count == truth.labels.filter { $0 == 15 }.count)
        #expect(person.labels.filter { $0 == 255 }.count == truth.labels.filter { $0 == 255 }.count)
    }

    @Test("tags come from image_level_labels.csv and agree with the masks")
    func tags() throws {
        let val = try Self.val.get()
        let sample = try #require(val.sample(id: "2007_000129"))
        let csv = try String(contentsOfFile: Self.folder + "/image_level_labels.csv", encoding: .utf8)
        let line = try #require(csv.split(separator: "\n").first { $0.hasPrefix("2007_000129,") })
        let fromCSV = Set(line.split(separator: ",").last!.split(separator: " ").map { String($0) })
        #expect(sample.tags == fromCSV)
        #expect(sample.tags == ["bicycle", "person"])
        // A few other samples: the tags name exactly the classes present in the mask.
        for id in ["2007_000033", "2008_004363", "2010_005063"] {
            let other = try #require(val.sample(id: id))
            let truth = try #require(try other.groundTruth(classes: ClassNames.voc))
            let present = Set(truth.labels.filter { (1...20).contains($0) }.map { ClassNames.voc[Int($0) - 1] })
            #expect(other.tags == present, "\(id)")
        }
    }

    @Test("without the CSV, tags come from Annotations XML (difficult objects count, parts do not) or the mask")
    func xmlAndMaskTags() throws {
        let fixture = try DatasetFixture("voc-xml")
        defer { fixture.remove() }
        let voc = "VOCdevkit/VOC2012"
        for id in ["2007_000129", "2007_000033"] {
            try FileManager.default.createDirectory(atPath: fixture.root + "/\(voc)/SegmentationClass",
                                                    withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.folder + "/SegmentationClass/\(id).png",
                                             toPath: fixture.root + "/\(voc)/SegmentationClass/\(id).png")
        }
        try fixture.write("\(voc)/ImageSets/Segmentation/val.txt", "2007_000129\n2007_000033\n")
        try fixture.write("\(voc)/Annotations/2007_000129.xml", """
            <annotation><filename>2007_000129.jpg</filename>
              <object><name>person</name><pose>Left</pose><difficult>0</difficult>
                <part><name>head</name><bndbox><xmin>1</xmin></bndbox></part>
                <part><name>hand</name></part></object>
              <object>
                <name>dog</name><difficult>1</difficult></object>
            </annotation>
            """)
        // The folder containing VOCdevkit works as well as VOC2012 itself.
        let dataset = try Dataset.open(spec: "voc:" + fixture.root, split: "val")
        #expect(dataset.name == "VOC2012")
        #expect(dataset.sample(id: "2007_000129")?.tags == ["person", "dog"])
        #expect(dataset.sample(id: "2007_000033")?.tags == ["aeroplane"])   // read from the mask
        #expect(dataset.availableOnly().samples.isEmpty)
        // No split: every mask (there is no trainval.txt).
        #expect(try Dataset.open(spec: "voc:" + fixture.root + "/\(voc)", split: nil).samples.count == 2)
    }

    @Test("a split can be a file of ids")
    func listFile() throws {
        let fixture = try DatasetFixture("voc-list")
        defer { fixture.remove() }
        let list = try fixture.write("mine.txt", "# two images\n2011_000003  1\n\n2007_000129.jpg\n")
        let dataset = try Dataset.open(spec: "voc:" + Self.folder, split: list)
        #expect(dataset.samples.map(\.id) == ["2007_000129", "2011_000003"])
        #expect(dataset.samples.allSatisfy { $0.imageExists })
        #expect(try Dataset.open(spec: "voc:" + Self.folder, split: "train_aug").samples.count == 10582)
    }
}
