import DivSegDatasets
import Foundation
import Testing

@Suite("Tags CSV: separators, quoting, ill-formed tags")
struct TagsCSVReaderTests {
    @Test("tags split at ';', else ',' (a quoted field), else spaces; spaces kept inside ';'-separated names")
    func separators() throws {
        let fixture = try DatasetFixture("tags-sep")
        defer { fixture.remove() }
        for name in ["a.jpg", "b.jpg", "c.jpg", "d.jpg"] { try fixture.write(name, "x") }
        let csv = try fixture.write("t.csv", """
            path,tags
            a.jpg,"toilet, sink"
            b.jpg,potted plant;vase
            c.jpg,cat dog
            "d.jpg",  giraffe\u{20}

            """)
        let samples = try Dataset.open(spec: "tags:" + csv).samples
        let tags = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0.tags) })
        #expect(tags["a"] == ["toilet", "sink"], "the issue's case: not 'toilet,'")
        #expect(tags["b"] == ["pottedplant", "vase"] || tags["b"] == ["potted plant", "vase"], "\(tags["b"]!)")
        #expect(tags["c"] == ["cat", "dog"])
        #expect(tags["d"] == ["giraffe"])
    }

    @Test("a tag that is no class name is refused with its line")
    func illFormed() throws {
        let fixture = try DatasetFixture("tags-bad")
        defer { fixture.remove() }
        for name in ["a.jpg", "b.jpg"] { try fixture.write(name, "x") }
        let csv = try fixture.write("t.csv", "path,tags\na.jpg,cat\nb.jpg,\"dog\"\"s\"\n")
        do {
            _ = try Dataset.open(spec: "tags:" + csv)
            Issue.record("opened")
        } catch {
            guard case .malformedRow(let path, let line, let reason) = error else { Issue.record("\(error)"); return }
            #expect(path == csv && line == 3)
            #expect(reason.contains("dog\"s"))
        }
    }
}
