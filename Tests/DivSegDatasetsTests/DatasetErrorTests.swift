import DivSegDatasets
import DivSegTestSupport
import Foundation
import Testing

@Suite("Dataset errors")
struct DatasetErrorTests {
    /// Runs `open` and returns the error, recording an issue when there is none.
    func failure(_ spec: String, split: String? = nil) -> DatasetError? {
        do {
            let dataset = try Dataset.open(spec: spec, split: split)
            Issue.record("'\(spec)' opened with \(dataset.samples.count) samples")
            return nil
        } catch {
            #expect(!error.description.isEmpty)
            return error
        }
    }

    @Test("a missing folder is named")
    func missingFolder() {
        #expect(failure("voc:/nonexistent/VOC2012") == .notFound(path: "/nonexistent/VOC2012", what: "VOC dataset folder"))
        #expect(failure("coco:/nonexistent/coco") == .notFound(path: "/nonexistent/coco", what: "COCO dataset folder"))
        #expect(failure("tags:/nonexistent/t.csv") == .notFound(path: "/nonexistent/t.csv", what: "tags CSV"))
        let error = failure("voc:/nonexistent/VOC2012")
        #expect(error?.description.contains("/nonexistent/VOC2012") == true)
    }

    @Test("a bad spec prefix or a spec without a path is refused")
    func badSpec() {
        #expect(failure("imagenet:/data") == .invalidSpec(spec: "imagenet:/data"))
        #expect(failure("/data/coco") == .invalidSpec(spec: "/data/coco"))
        #expect(failure("coco:") == .invalidSpec(spec: "coco:"))
        #expect(failure("imagenet:/data")?.description.contains("voc:DIR") == true)
    }

    @Test("a folder of the wrong layout is refused")
    func wrongLayout() throws {
        let fixture = try DatasetFixture("err-layout")
        defer { fixture.remove() }
        guard case .unrecognizedLayout(let path, _)? = failure("voc:" + fixture.root) else { Issue.record("voc"); return }
        #expect(path == fixture.root)
        guard case .unrecognizedLayout? = failure("coco:" + fixture.root) else { Issue.record("coco"); return }
        guard case .unrecognizedLayout? = failure("tags:" + fixture.root) else { Issue.record("tags"); return }
    }

    @Test("an unknown split lists the valid ones")
    func unknownSplit() throws {
        let voc = "voc:" + SharedData.voc2012
        #expect(failure(voc, split: "test") == .unknownSplit(split: "test", dataset: voc,
                                                             valid: ["train", "train_aug", "trainval", "val"]))
        let coco = "coco:" + SharedData.cocoMini
        let error = failure(coco, split: "tset")
        #expect(error == .unknownSplit(split: "tset", dataset: coco,
                                       valid: ["train", "train2017", "trainval", "val", "val2017"]))
        #expect(error?.description.contains("train2017") == true)
        #expect(failure(voc, split: "/nonexistent/ids.txt") == .notFound(path: "/nonexistent/ids.txt", what: "split list file"))
    }

    @Test("malformed CSV lines and missing columns name the file and line")
    func malformedCSV() throws {
        let fixture = try DatasetFixture("err-csv")
        defer { fixture.remove() }
        for name in ["a.jpg", "b.jpg"] { try fixture.write(name, "x") }
        let extra = try fixture.write("extra.csv", "path,tags\na.jpg,cat\nb.jpg,dog,cow\n")
        guard case .malformedRow(let path, let line, let reason)? = failure("tags:" + extra) else {
            Issue.record("extra field"); return
        }
        #expect(path == extra && line == 3)
        #expect(reason.contains("3 fields"))
        let quote = try fixture.write("quote.csv", "path,tags\r\n\"a.jpg,cat\r\n")
        #expect(failure("tags:" + quote) == .malformedRow(path: quote, line: 2,
                                                          reason: "a quoted field is not closed on this line"))
        let header = try fixture.write("header.csv", "file,tags\na.jpg,cat\n")
        #expect(failure("tags:" + header) == .missingColumn(path: header, column: "path", header: ["file", "tags"]))
        let error = failure("tags:" + extra)
        #expect(error?.description.contains(extra) == true && error?.description.contains("line 3") == true)
    }

    @Test("a listed image that does not exist is named with the list's line")
    func missingImage() throws {
        let fixture = try DatasetFixture("err-image")
        defer { fixture.remove() }
        try fixture.write("a.jpg", "x")
        let csv = try fixture.write("t.csv", "path,tags\na.jpg,cat\n\nmissing.jpg,dog\n")
        let error = failure("tags:" + csv)
        #expect(error == .missingFile(path: fixture.path("missing.jpg"), listedIn: csv, line: 4))
        #expect(error?.description.contains("missing.jpg") == true)
        #expect(error?.path == fixture.path("missing.jpg"))

        // COCO-mini: an image named in tags.csv but absent from images/.
        try fixture.write("coco/images/x.jpg", "x")
        let tags = try fixture.write("coco/tags.csv", "image,tags,split,mask\nx.jpg,cat,train2017,\ny.jpg,dog,val2017,\n")
        #expect(failure("coco:" + fixture.root + "/coco") ==
                .missingFile(path: fixture.root + "/coco/images/y.jpg", listedIn: tags, line: 3))
    }

    @Test("split lists naming unknown ids, duplicate rows and broken JSON are reported")
    func otherErrors() throws {
        let fixture = try DatasetFixture("err-misc")
        defer { fixture.remove() }
        for name in ["a.jpg", "b.jpg"] { try fixture.write(name, "x") }
        let csv = try fixture.write("t.csv", "path,tags\na.jpg,cat\nb.jpg,dog\n")
        let list = try fixture.write("ids.txt", "a\nzebra\n")
        #expect(failure("tags:" + csv, split: list) == .unknownID(id: "zebra", path: list, line: 2))
        let twice = try fixture.write("twice.csv", "path,tags\na.jpg,cat\na.jpg,dog\n")
        #expect(failure("tags:" + twice) == .duplicateID(id: "a", path: twice, line: 3))
        let json = try fixture.write("coco/annotations/instances_val2017.json", "{\"images\": [{\"id\": 1}]}")
        guard case .malformedJSON(let path, let reason)? = failure("coco:" + fixture.root + "/coco") else {
            Issue.record("broken JSON"); return
        }
        #expect(path == json)
        #expect(reason.contains("file_name"))
    }

    @Test("more than 254 classes cannot be labelled in 8 bits")
    func tooManyClasses() throws {
        let voc = try Dataset.open(spec: "voc:" + SharedData.voc2012, split: "val")
        let sample = try #require(voc.sample(id: "2007_000129"))
        #expect(throws: DatasetError.tooManyClasses(count: 300)) {
            try sample.groundTruth(classes: (0..<300).map { "class\($0)" })
        }
    }
}
