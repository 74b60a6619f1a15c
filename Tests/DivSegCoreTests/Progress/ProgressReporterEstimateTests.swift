import DivSegCore
import Testing

@Suite("ProgressReporter.estimateLine")
struct ProgressReporterEstimateTests {
    @Test("items: the measured rate times the items left, as a clock")
    func items() throws {
        let line = try #require(ProgressReporter.estimateLine(label: "features", done: 3, total: 258, elapsed: 6, unit: "image"))
        // 2 s per image × 255 images left = 510 s = 8:30.
        #expect(line == "features: 3 of 258 images in 0:06 (2.0 s each) → about 8:30 for the other 255 (estimate from the rate so far)")
        let fast = try #require(ProgressReporter.estimateLine(label: "training", done: 10, total: 300, elapsed: 0.5, unit: "epoch"))
        #expect(fast.contains("(20/s)") && fast.contains("about 0:15 for the other 290"), "\(fast)")
    }

    @Test("a fraction of the work: percent done and time left")
    func fraction() throws {
        let line = try #require(ProgressReporter.estimateLine(label: "segmenter", done: 50, total: 1000, elapsed: 12, unit: nil))
        #expect(line == "segmenter: 5 % in 0:12 → about 3:48 left (estimate from the rate so far)")
    }

    @Test("nothing to estimate: no line")
    func none() {
        #expect(ProgressReporter.estimateLine(label: "x", done: 0, total: 10, elapsed: 1, unit: "image") == nil)
        #expect(ProgressReporter.estimateLine(label: "x", done: 10, total: 10, elapsed: 1, unit: "image") == nil)
        #expect(ProgressReporter.estimateLine(label: "x", done: 1, total: 10, elapsed: .nan, unit: nil) == nil)
    }
}
