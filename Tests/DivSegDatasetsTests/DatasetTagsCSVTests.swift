import DivSegDatasets
import Foundation
import Testing

@Suite("Dataset tags CSV")
struct DatasetTagsCSVTests {
    @Test("paths relative to the CSV, ';' or space separated tags, quoting, canonical names")
    func read() throws {
        let fixture = try DatasetFixture("tags")
        defer { fixture.remove() }
        for name in ["photos/b.jpg", "photos/a.png", "photos/d e.jpg", "c.jpg"] { try fixture.write(name, "x") }
        try fixture.write("lists/tags.csv", """
            path,tags
            ../photos/b.jpg,Cat;Couch
            ../photos/a.png,dog person
            ../c.jpg,
            "../photos/d e.jpg","teddy bear;airplane"
            """)
        let dataset = try Dataset.open(spec: "tags:" + fixture.root + "/lists/tags.csv", split: nil)
        #expect(dataset.kind == .tags)
        #expect(dataset.name == "tags")
        #expect(dataset.samples.map(\.id) == ["../c", "../photos/a", "../photos/b", "../photos/d e"])
        #expect(dataset.samples.map(\.imagePath) == [fixture.path("c.jpg"), fixture.path("photos/a.png"),
                                                     fixture.path("photos/b.jpg"), fixture.path("photos/d e.jpg")])
        #expect(dataset.samples.map(\.tags) == [[], ["dog", "person"], ["cat", "sofa"], ["teddy_bear", "aeroplane"]])
        #expect(dataset.samples.allSatisfy { !$0.hasGroundTruth && $0.imageExists })
        #expect(try dataset.samples[0].groundTruth(classes: ["cat"]) == nil)
        #expect(dataset.tagCounts() == ["dog": 1, "person": 1, "cat": 1, "sofa": 1, "teddy_bear": 1, "aeroplane": 1])
    }

    @Test("a dataset written back as a tags CSV reads back the same")
    func roundTrip() throws {
        let fixture = try DatasetFixture("tags-rt")
        defer { fixture.remove() }
        let rows = [("img/1.jpg", ["giraffe"]), ("img/2.jpg", ["elephant", "person"]),
                    ("img/3.jpg", ["diningtable", "tvmonitor", "potted plant"]), ("4.png", [])]
        for (path, _) in rows { try fixture.write(path, "x") }
        let csv = "path,tags\n" + rows.map { "\($0.0),\($0.1.joined(separator: ";"))" }.joined(separator: "\n") + "\n"
        try fixture.write("tags.csv", csv)
        let first = try Dataset.open(spec: "tags:" + fixture.root + "/tags.csv", split: nil)
        #expect(first.samples.count == 4)
        #expect(first.sample(id: "img/3")?.tags == ["diningtable", "tvmonitor", "pottedplant"])

        var written = "path,tags\n"
        for sample in first.samples {
            let relative = String(sample.imagePath.dropFirst(fixture.root.count + 1))
            written += "\"\(relative)\",\"\(sample.tags.sorted().joined(separator: ";"))\"\n"
        }
        try fixture.write("copy/../again.csv", written)
        let second = try Dataset.open(spec: "tags:" + fixture.root + "/again.csv", split: nil)
        #expect(second.samples.map(\.id) == first.samples.map(\.id))
        #expect(second.samples.map(\.imagePath) == first.samples.map(\.imagePath))
        #expect(second.samples.map(\.tags) == first.samples.map(\.tags))
        #expect(second.tagCounts() == first.tagCounts())
    }

    @Test("an optional split column selects samples; a list file too")
    func splits() throws {
        let fixture = try DatasetFixture("tags-split")
        defer { fixture.remove() }
        for name in ["a.jpg", "b.jpg", "c.jpg"] { try fixture.write(name, "x") }
        try fixture.write("t.csv", "path,tags,split\na.jpg,cat,train\nb.jpg,dog,val\nc.jpg,cow,train\n")
        let spec = "tags:" + fixture.root + "/t.csv"
        #expect(try Dataset.open(spec: spec, split: "train").samples.map(\.id) == ["a", "c"])
        #expect(try Dataset.open(spec: spec, split: "val").samples.map(\.id) == ["b"])
        let list = try fixture.write("ids.txt", "c\nb\n")
        #expect(try Dataset.open(spec: spec, split: list).samples.map(\.id) == ["b", "c"])
    }
}
