import DivSeg
import DivSegCore
import Foundation
import Testing

/// Issue #10, cases 11 and 13: every numeric setting the command line exposes has one
/// bound in the library, which validation enforces and messages state.
@Suite("Setting bounds")
struct SettingBoundsTests {
    @Test("bounds read as ranges, open-ended ones as 'or more'")
    func boundText() {
        #expect((1...100).boundText == "1...100")
        #expect((1...Int.max).boundText == "1 or more")
        #expect((0.01...Double.infinity).boundText == "0.01 or more")
        #expect((Float(0)...10).boundText == "0.0...10.0")
        #expect(!(Float(0)...10).contains(.nan) && !(0.01...Double.infinity).contains(.nan))
        #expect(MemoryBudget.text(1_689_600_000_032) == "1.7 TB")
    }

    @Test("a localizer too large for memory is refused with the estimate and the limit")
    func localizerMemory() throws {
        // The paper's 1024 units need well under a gigabyte.
        #expect(LocalizerTrainer.trainingBytes(hiddenUnits: 1024) < 1e9)
        #expect(LocalizerTrainer.hiddenUnitsProblem(1024, memory: 16e9) == nil)
        let problem = try #require(LocalizerTrainer.hiddenUnitsProblem(100_000_000, memory: 16e9))
        #expect(problem.contains("16.0 GB") && problem.contains("TB"), "\(problem)")
        let limit = LocalizerTrainer.maximumHiddenUnits(inMemory: 16e9)
        #expect(LocalizerTrainer.hiddenUnitsProblem(limit, memory: 16e9) == nil)
        #expect(LocalizerTrainer.hiddenUnitsProblem(limit + 1, memory: 16e9) != nil)
        #expect(problem.hasPrefix("at most \(limit)"))
        #expect(LocalizerTrainer.hiddenUnitsProblem(0) == "at least 1")
        // Absurd sizes cannot overflow the estimate.
        #expect(LocalizerTrainer.trainingBytes(hiddenUnits: Int.max).isFinite)

        var trainer = LocalizerTrainer()
        trainer.hiddenUnits = 100_000_000
        #expect(throws: LocalizerError.self) { try trainer.validate() }
    }

    @Test("out-of-range settings are refused by validate(), with the bound")
    func validation() throws {
        var segmenter = SegmenterTrainer()
        segmenter.epochs = 1_000_000_000
        #expect(throws: SegmenterError.invalidSetting(name: "epochs", value: "1000000000",
                                                      requirement: "in \(SegmenterTrainer.epochsRange.boundText)")) {
            try segmenter.validate()
        }
        segmenter = SegmenterTrainer()
        segmenter.learningRate = .nan
        #expect(throws: SegmenterError.self) { try segmenter.validate() }

        var crf = DenseCRFParameters()
        crf.iterations = 1_000_000_000
        #expect(throws: DenseCRFError.self) { try crf.validate() }
        crf = DenseCRFParameters()
        crf.bilateralSRGB = .infinity
        #expect(throws: DenseCRFError.self) { try crf.validate() }
        #expect(throws: Never.self) { try DenseCRFParameters().validate() }

        var sampler = PointSampler()
        sampler.pointsPerClass = 1_000_000_000
        #expect(throws: SamplingError.invalidSetting(name: "pointsPerClass", value: "1000000000",
                                                     requirement: "in \(PointSampler.pointsPerClassRange.boundText)")) {
            try sampler.validate()
        }
        sampler = PointSampler()
        sampler.denseStride = 1000
        #expect(throws: SamplingError.self) { try sampler.validate() }
    }
}
