import DivSeg
import DivSegCore
import DivSegDatasets

/// The whole `diagnose` job in one call: pointing accuracy and sampling precision on a
/// split (``PipelineDiagnostics``), then optionally the oracle ceiling (``OracleCeiling``)
/// and the localizer-argmax baseline (``LocalizerArgmaxBaseline``, threshold chosen on the
/// measured split's masks) on an evaluation split. Long work reports each phase through
/// ``Phase`` so that a caller can show progress without knowing the steps.
///
/// ```swift
/// var run = DiagnosticsRun(diagnostics: try PipelineDiagnostics(classes: names, localizers: localizers))
/// run.oracle = .init(evalSamples: val.samples)
/// let result = try run.run(samples: train.samples, features: { try cache.features(for: $0, extractor: extractor) })
/// print(result.report.text())
/// ```
public struct DiagnosticsRun {
    /// The oracle ceiling's settings: where it is evaluated, how it draws points, how it trains.
    public struct Oracle {
        public var evalSamples: [DatasetSample]
        public var sampler: OracleSampler
        public var trainer: SegmenterTrainer
        public init(evalSamples: [DatasetSample], sampler: OracleSampler = OracleSampler(),
                    trainer: SegmenterTrainer = SegmenterTrainer()) {
            self.evalSamples = evalSamples
            self.sampler = sampler
            self.trainer = trainer
        }
    }

    /// The localizer-argmax baseline on an evaluation split.
    public struct Argmax: Encodable {
        /// The evaluation split's name (for reports).
        public var evalSplit: String
        /// The background threshold chosen on the measured split's masks.
        public var threshold: Float
        /// Every threshold tried, with its mIoU on the measured split.
        public var candidates: [ThresholdSearch.Candidate]
        /// Scores on the evaluation split.
        public var evaluation: SegmentationScores.Summary
        /// The full scores (per-class table), not encoded.
        public var scores: SegmentationScores
        /// Images of the evaluation split scored, not encoded.
        public var imageCount: Int

        enum CodingKeys: String, CodingKey { case evalSplit, threshold, candidates, evaluation }
    }

    /// What ``run(samples:features:progress:)`` produced.
    public struct Result {
        public var report: DiagnosticsReport
        public var argmax: Argmax?
    }

    /// A step of the run, with its progress.
    public enum Phase: Sendable, Equatable {
        case measuring(done: Int, total: Int)
        case oracle(OracleCeiling.Phase)
        case argmaxThreshold(done: Int, total: Int)
        case argmaxEvaluation(done: Int, total: Int)

        /// A short name of the step, for progress lines.
        public var label: String {
            switch self {
            case .measuring: "pointing and sampling"
            case .oracle(.sampling): "oracle points"
            case .oracle(.training): "oracle segmenter"
            case .oracle(.evaluation): "oracle evaluate"
            case .argmaxThreshold: "argmax threshold"
            case .argmaxEvaluation: "argmax evaluate"
            }
        }

        /// Progress within the step as (done, total); training reports thousandths.
        public var progress: (done: Int, total: Int) {
            switch self {
            case .measuring(let done, let total), .argmaxThreshold(let done, let total),
                 .argmaxEvaluation(let done, let total), .oracle(.sampling(let done, let total)),
                 .oracle(.evaluation(let done, let total)):
                (done, total)
            case .oracle(.training(let fraction)):
                (Int(fraction * 1000), 1000)
            }
        }
    }

    /// Pointing and sampling measurement.
    public var diagnostics: PipelineDiagnostics
    /// Whether the sampling precision is measured too (pointing alone is much faster).
    public var measuresSampling = true
    /// The oracle ceiling, when wanted.
    public var oracle: Oracle?
    /// The localizer-argmax baseline's evaluation split (name, samples with masks), when wanted.
    public var argmaxEvaluation: (split: String, samples: [DatasetSample])?

    public init(diagnostics: PipelineDiagnostics) {
        self.diagnostics = diagnostics
    }

    /// Measures on `samples` (the split the oracle trains on and the argmax threshold is chosen on).
    public func run(samples: [DatasetSample], features: (String) throws -> CompactHypercolumns,
                    progress: ((Phase) -> Void)? = nil) throws -> Result {
        var report = try diagnostics.measure(samples: samples, sampling: measuresSampling, features: features) {
            progress?(.measuring(done: $0, total: $1))
        }
        if let oracle {
            report.oracle = try OracleCeiling.run(
                trainSamples: samples, evalSamples: oracle.evalSamples, classes: diagnostics.classes,
                oracle: oracle.sampler, trainer: oracle.trainer, features: features
            ) { progress?(.oracle($0)) }.ceiling
        }
        var argmax: Argmax?
        if let (split, evalSamples) = argmaxEvaluation {
            let localizers = diagnostics.localizers, kind = diagnostics.score
            func scoreMaps(_ sample: DatasetSample) throws -> [[Float]] {
                let compact = try features(sample.imagePath)
                return localizers.map { $0.score(compact, kind: kind) }
            }
            let (baseline, candidates) = try LocalizerArgmaxBaseline.calibrate(
                classes: diagnostics.classes, samples: samples.filter(\.hasGroundTruth), scores: scoreMaps,
                progress: { progress?(.argmaxThreshold(done: $0, total: $1)) })
            let scores = try PredictionEvaluator.evaluate(
                samples: evalSamples, classes: diagnostics.classes,
                progress: { progress?(.argmaxEvaluation(done: $0, total: $1)) }
            ) { sample, size in
                try baseline.predict(scores: try scoreMaps(sample), imageSize: size)
            }
            argmax = Argmax(evalSplit: split, threshold: baseline.threshold, candidates: candidates,
                            evaluation: scores.summary, scores: scores, imageCount: evalSamples.count)
        }
        return Result(report: report, argmax: argmax)
    }
}
