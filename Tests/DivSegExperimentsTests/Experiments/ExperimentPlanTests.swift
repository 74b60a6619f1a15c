import DivSeg
import DivSegRegistry
import Foundation
import Testing
import DivSegExperiments

/// The experiment plan (the paper's tables) and the report's Markdown and JSON forms.
@Suite("Experiment plan and report")
struct ExperimentPlanTests {
    static var registryDefault: PointSampler {
        var sampler = PointSampler(strategy: .dense)
        sampler.denseStride = 4
        return sampler
    }

    @Test("the full plan has the paper's rows with its numbers, each id once")
    func fullPlan() {
        let plan = ExperimentVariant.standardPlan(
            localizers: [("registry", "average-pooled"), ("mlp-global", "global-softmax"), ("mlp-pixel", "pixel-softmax")],
            defaultSampler: Self.registryDefault)
        #expect(Set(plan.map(\.id)).count == plan.count)
        let paper = Dictionary(uniqueKeysWithValues: plan.map { ($0.id, $0.paperMIoU) })
        #expect(plan.filter { $0.table == .sampling }.map(\.id)
                == ["sampling/dense", "sampling/spatial-k20", "sampling/top-k20", "sampling/diverse-k20"])
        #expect(paper["sampling/dense"] == 15.0 && paper["sampling/spatial-k20"] == 33.4
                && paper["sampling/top-k20"] == 30.7 && paper["sampling/diverse-k20"] == 40.6)
        #expect(plan.filter { $0.table == .points }.map { $0.sampler.pointsPerClass } == [1, 5, 10, 20, 50])
        #expect(plan.filter { $0.table == .points }.map { $0.paperMIoU! } == [35.1, 37.2, 39.3, 40.6, 40.4])
        // Table 3: each registry with the default sampler and the paper's; paper numbers only for the latter.
        #expect(plan.filter { $0.table == .localizers }.count == 6)
        #expect(paper["localizers/mlp-global/diverse-k20"] == 40.6 && paper["localizers/mlp-pixel/diverse-k20"] == 38.0)
        #expect(paper["localizers/mlp-global/dense"]! == nil && paper["localizers/registry/diverse-k20"]! == nil)
        let crf = plan.filter { $0.table == .crf }
        #expect(crf.map(\.id) == ["crf/dense", "crf/dense+crf", "crf/diverse-k20", "crf/diverse-k20+crf",
                                   "crf/dense+rules", "crf/dense+rules+crf"])
        #expect(crf.map { $0.crf != nil } == [false, true, false, true, false, true])
        // The paper's rows: the reference CRF on every pixel; the default's: segment's CRF.
        #expect(crf.compactMap(\.crf?.resolution) == [1, 1, DenseCRFParameters.segmenterDefault.resolution])
        #expect(DenseCRFParameters.segmenterDefault.resolution < 1)
        // Only the `+rules` rows apply the prediction rules; the others are the paper's plain argmax.
        #expect(crf.map(\.adjustment) == [nil, nil, nil, nil, .untagged, .untagged])
        #expect(crf.map(\.localizerWeight) == [nil, nil, nil, nil, LocalizerFusion.defaultWeight, LocalizerFusion.defaultWeight])
        #expect(paper["crf/diverse-k20"] == 40.6 && paper["crf/diverse-k20+crf"] == 45.2)
        #expect(plan.first { $0.id == "sampling/dense" }!.name == "dense (threshold 0.2, stride 4) — default")
        #expect(plan.allSatisfy { $0.table == .localizers || $0.localizers == "registry" })
    }

    @Test("a default sampler outside Table 1 gets its own row; the quick plan is a subset")
    func otherDefaultAndQuick() {
        let unusual = PointSampler(strategy: .top, pointsPerClass: 7)
        let plan = ExperimentVariant.standardPlan(localizers: [("a", nil)], defaultSampler: unusual)
        #expect(plan.first!.id == "sampling/top-k7" && plan.first!.paperMIoU == nil)
        // Issue #11's dense settings are named in the row and its id.
        var exhaustive = Self.registryDefault
        exhaustive.denseBackground = .none
        exhaustive.denseMargin = 0.05
        let own = ExperimentVariant.standardPlan(localizers: [("a", nil)], defaultSampler: exhaustive).first!
        #expect(own.id == "sampling/dense-nobg-m0.05")
        #expect(own.sampling == "dense (no background, margin 0.05, stride 4)")
        let full = ExperimentVariant.standardPlan(localizers: [("a", nil), ("b", "pixel-softmax")], defaultSampler: Self.registryDefault)
        let quick = ExperimentVariant.standardPlan(localizers: [("a", nil), ("b", "pixel-softmax")], defaultSampler: Self.registryDefault,
                                                   quick: true)
        #expect(Set(quick.map(\.id)).isSubset(of: Set(full.map(\.id))))
        #expect(quick.map(\.id) == ["sampling/dense", "sampling/diverse-k20", "points/k1", "points/k20",
                                    "localizers/a/dense", "localizers/b/dense", "crf/dense", "crf/dense+crf",
                                    "crf/dense+rules", "crf/dense+rules+crf"])
    }

    @Test("the report's Markdown shows every table, repeats and failures; its JSON round-trips")
    func reportForms() throws {
        let plan = ExperimentVariant.standardPlan(localizers: [("registry", "average-pooled")],
                                                  defaultSampler: Self.registryDefault, quick: true)
        var rows = plan.map(ExperimentReport.Row.init)
        rows[0].mIoU = 31.25; rows[0].classesInMean = 23; rows[0].vocMIoU = 30.5; rows[0].vocClassesInMean = 21
        rows[0].points = 86_000; rows[0].samplingSeconds = 100; rows[0].trainingSeconds = 20; rows[0].evaluationSeconds = 30
        rows[0].wallSeconds = 150
        rows[1].error = "retraining failed: boom | bang"
        for index in 2..<rows.count {
            rows[index].mIoU = 10; rows[index].classesInMean = 23; rows[index].vocMIoU = 9; rows[index].vocClassesInMean = 21
            rows[index].repeatOf = "sampling/dense"
        }
        let report = ExperimentReport(dataset: "coco:/data/coco-mini", trainSplit: "train", evalSplit: "val", evaluationImages: 230,
                                      evaluationLimit: nil,
                                      localizerSets: [.init(name: "registry", directory: "/r", classes: ["giraffe"], loss: "average-pooled",
                                                            problems: [])],
                                      trainer: SegmenterTrainer(), notes: ["a note"], rows: rows, started: "2026-11-27T00:00:00Z",
                                      totalSeconds: 3725, command: "divseg-registry experiment --quick")
        let markdown = report.markdown()
        for table in ExperimentVariant.Table.allCases { #expect(markdown.contains("## \(table.title)")) }
        #expect(markdown.contains("| dense (threshold 0.2, stride 4) — default | 31.2 | 30.5 | 15.0 | 86000 | 150 (100 + 20 + 30) |"))
        #expect(markdown.contains("| mIoU (23) | bg + VOC (21) |"))
        #expect(markdown.contains("failed: retraining failed: boom / bang"))
        #expect(markdown.contains("= `sampling/dense`"))
        #expect(markdown.contains("- a note") && markdown.contains("1:02:05"))
        #expect(report.failures.map(\.id) == ["sampling/diverse-k20"])
        let back = try JSONDecoder().decode(ExperimentReport.self, from: try report.jsonData())
        #expect(back == report)
    }
}
