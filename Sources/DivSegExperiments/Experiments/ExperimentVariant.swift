import DivSeg
import Foundation
import DivSegCore
import DivSegIO
import DivSegRegistry

/// One row of an experiment: which localizers (a registry, by its name in the
/// ``ExperimentRunner``), which sampler the segmenter is retrained with, whether the
/// predictions go through the dense CRF, and the paper's number for the same setting.
///
/// ``standardPlan(localizers:defaultSampler:quick:)`` gives the rows of the paper's
/// Tables 1–3 and its CRF row (VOC 2012 val mIoU, in the paper: sampling dense / spatial /
/// top / diverse 15.0 / 33.4 / 30.7 / 40.6; k = 1/5/10/20/50 → 35.1/37.2/39.3/40.6/40.4;
/// pixel vs global softmax 38.0/40.6; + CRF 40.6 → 45.2).
///
/// ```swift
/// let plan = ExperimentVariant.standardPlan(
///     localizers: [("registry", "average-pooled"), ("mlp-global", "global-softmax")],
///     defaultSampler: retrainer.sampler)
/// for variant in plan { print(variant.id, variant.sampling, variant.paperMIoU ?? .nan) }
/// // sampling/dense  dense (threshold 0.2, stride 4)  15.0 …
/// ```
public struct ExperimentVariant: Sendable, Codable, Equatable {
    /// The table of the paper a row belongs to.
    public enum Table: String, Sendable, Codable, CaseIterable {
        /// Table 1: the sampling strategy.
        case sampling
        /// Table 2: points per class k of diverse sampling.
        case points
        /// Table 3: the localizers (MIL loss; here any registry of bundles).
        case localizers
        /// The dense-CRF row.
        case crf

        /// A heading for people.
        public var title: String {
            switch self {
            case .sampling: return "Table 1 — sampling strategy"
            case .points: return "Table 2 — points per class k (diverse sampling)"
            case .localizers: return "Table 3 — localizers"
            case .crf: return "Dense CRF"
            }
        }
    }

    /// The paper's VOC 2012 val mIoU for the settings of its tables.
    public enum Paper {
        /// Table 1, by sampling strategy (k = 20).
        public static let sampling: [SamplingStrategy: Double] = [.dense: 15.0, .spatial: 33.4, .top: 30.7, .diverse: 40.6]
        /// Table 2, diverse sampling, by k.
        public static let points: [Int: Double] = [1: 35.1, 5: 37.2, 10: 39.3, 20: 40.6, 50: 40.4]
        /// Table 3, by the localizers' MIL loss (diverse, k = 20).
        public static let localizerLoss: [String: Double] = ["global-softmax": 40.6, "pixel-softmax": 38.0]
        /// The CRF row: the paper's default without and with the CRF.
        public static let withoutCRF = 40.6
        public static let withCRF = 45.2
    }

    public var table: Table
    /// Unique within a plan, e.g. `sampling/diverse`, `points/k5`, `localizers/mlp-global/dense`,
    /// `crf/dense+crf`.
    public var id: String
    /// The row's label in the Markdown table.
    public var name: String
    /// The name of the localizer set (registry) in the ``ExperimentRunner``.
    public var localizers: String
    /// The sampler the segmenter is retrained with.
    public var sampler: PointSampler
    /// The dense CRF applied to the predictions, nil for the plain upsampled argmax.
    public var crf: DenseCRFParameters?
    /// The prediction rules applied before the argmax (and the CRF); nil for the segmenter's
    /// plain argmax, as the paper predicts (every row but the `+rules` ones).
    public var adjustment: PredictionAdjustment?
    /// The weight of the classes' localizer maps added to the logits before the rules
    /// (``LocalizerFusion``); nil for none (every row but the `+rules` ones).
    public var localizerWeight: Float?
    /// The paper's mIoU for this setting (VOC 2012 val), when it reports one.
    public var paperMIoU: Double?
    /// The sampler in words, e.g. `diverse, k = 20` or `dense (threshold 0.2, stride 4)`.
    public var sampling: String

    public init(table: Table, id: String, name: String, localizers: String, sampler: PointSampler,
                crf: DenseCRFParameters? = nil, adjustment: PredictionAdjustment? = nil, localizerWeight: Float? = nil,
                paperMIoU: Double? = nil) {
        self.table = table
        self.adjustment = adjustment
        self.localizerWeight = localizerWeight
        self.id = id
        self.name = name
        self.localizers = localizers
        self.sampler = sampler
        self.crf = crf
        self.paperMIoU = paperMIoU
        self.sampling = Self.describe(sampler)
    }

    /// A sampler in words.
    ///
    /// ```swift
    /// ExperimentVariant.describe(PointSampler())   // "diverse, k = 20"
    /// ```
    public static func describe(_ sampler: PointSampler) -> String {
        switch sampler.strategy {
        case .dense:
            let rule = sampler.denseBackground == .none ? "no background" : "threshold \(short(Double(sampler.denseThreshold)))"
            let margin = sampler.denseMargin == 0 ? "" : ", margin \(short(Double(sampler.denseMargin)))"
            return "dense (\(rule)\(margin), stride \(sampler.denseStride))"
        case .spatial:
            return "spatial, k = \(sampler.pointsPerClass)"
                + (sampler.spatialBandwidth == PointSampler().spatialBandwidth ? "" : " (σ \(short(Double(sampler.spatialBandwidth))))")
        case .diverse, .top:
            return "\(sampler.strategy.rawValue), k = \(sampler.pointsPerClass)"
        }
    }

    /// Short slug of a sampler for ids: `dense`, `dense-t0.3-s2`, `diverse-k20`, ….
    static func slug(_ sampler: PointSampler) -> String {
        switch sampler.strategy {
        case .dense:
            let standard = sampler.denseThreshold == 0.2 && sampler.denseStride == 4
            let extra = (sampler.denseBackground == .none ? "-nobg" : "")
                + (sampler.denseMargin == 0 ? "" : "-m\(short(Double(sampler.denseMargin)))")
            return (standard ? "dense" : "dense-t\(short(Double(sampler.denseThreshold)))-s\(sampler.denseStride)") + extra
        default:
            return "\(sampler.strategy.rawValue)-k\(sampler.pointsPerClass)"
        }
    }

    static func short(_ value: Double) -> String {
        var text = String(format: "%.3f", locale: Locale(identifier: "en_US_POSIX"), value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// The paper's Tables 1–3 and CRF row for a main registry (the first localizer set) and
    /// any others to compare it with.
    ///
    /// - Table 1: dense (threshold 0.2, stride 4), spatial, top and diverse sampling with
    ///   k = 20 on the main registry; `defaultSampler` too when it is none of these.
    /// - Table 2: diverse sampling with k = 1, 5, 10, 20, 50 on the main registry.
    /// - Table 3: every localizer set with `defaultSampler`, and with the paper's sampler
    ///   (diverse, k = 20) when that is another one — the paper's numbers are for the latter.
    /// - CRF: the main registry with `defaultSampler` (and with the paper's sampler when
    ///   different), each without and with ``DenseCRFParameters`` defaults.
    ///
    /// Rows repeat settings across tables (e.g. diverse k = 20 is in all four); the runner
    /// trains and evaluates each distinct setting once. `quick` keeps a few rows per table
    /// (Table 1: default and diverse; Table 2: k = 1 and 20; Table 3: each set with the
    /// default sampler; CRF: default without and with) for tests.
    ///
    /// ```swift
    /// let plan = ExperimentVariant.standardPlan(localizers: [("registry", nil)],
    ///                                           defaultSampler: PointSampler(), quick: true)
    /// ```
    ///
    /// - Parameter localizers: name and MIL loss (the bundles' manifest `localizer.loss`,
    ///   nil when mixed) of each localizer set, the main registry first.
    public static func standardPlan(localizers: [(name: String, loss: String?)], defaultSampler: PointSampler,
                                    quick: Bool = false) -> [ExperimentVariant] {
        guard let main = localizers.first?.name else { return [] }
        let paper = PointSampler()                       // diverse, k = 20
        func sampler(_ strategy: SamplingStrategy, _ k: Int = 20) -> PointSampler {
            var s = PointSampler(strategy: strategy, pointsPerClass: k)
            if strategy == .dense { s.denseThreshold = 0.2; s.denseStride = 4 }
            return s
        }
        func label(_ s: PointSampler) -> String { describe(s) + (s == defaultSampler ? " — default" : "") }
        var plan: [ExperimentVariant] = []

        // Table 1
        var table1 = [sampler(.dense), sampler(.spatial), sampler(.top), sampler(.diverse)]
        if !table1.contains(defaultSampler) { table1.insert(defaultSampler, at: 0) }
        if quick { table1 = table1.filter { $0 == defaultSampler || $0 == paper } }
        for s in table1 {
            // The paper's number only for its own settings (k = 20; dense: our threshold/stride).
            plan.append(ExperimentVariant(table: .sampling, id: "sampling/\(slug(s))", name: label(s), localizers: main,
                                          sampler: s, paperMIoU: s == sampler(s.strategy) ? Paper.sampling[s.strategy] : nil))
        }

        // Table 2
        for k in quick ? [1, 20] : [1, 5, 10, 20, 50] {
            let s = sampler(.diverse, k)
            plan.append(ExperimentVariant(table: .points, id: "points/k\(k)", name: "k = \(k)", localizers: main,
                                          sampler: s, paperMIoU: Paper.points[k]))
        }

        // Table 3
        for (name, loss) in localizers {
            let samplers = quick || defaultSampler == paper ? [defaultSampler] : [defaultSampler, paper]
            for s in samplers {
                let lossText = loss ?? "mixed losses"
                plan.append(ExperimentVariant(table: .localizers, id: "localizers/\(name)/\(slug(s))",
                                              name: "\(name) (\(lossText)), \(label(s))", localizers: name, sampler: s,
                                              paperMIoU: s == paper ? loss.flatMap { Paper.localizerLoss[$0] } : nil))
            }
        }

        // CRF
        for s in quick || defaultSampler == paper ? [defaultSampler] : [defaultSampler, paper] {
            let crfPaper = s == paper
            plan.append(ExperimentVariant(table: .crf, id: "crf/\(slug(s))", name: label(s), localizers: main, sampler: s,
                                          paperMIoU: crfPaper ? Paper.withoutCRF : nil))
            plan.append(ExperimentVariant(table: .crf, id: "crf/\(slug(s))+crf", name: label(s) + " + CRF", localizers: main,
                                          sampler: s, crf: DenseCRFParameters(), paperMIoU: crfPaper ? Paper.withCRF : nil))
        }
        // divseg's prediction rules (issue #11, levers 8 and 9: the localizers' maps added,
        // background bias, small classes removed), without the CRF (`--no-crf`) and with the
        // CRF at half resolution (lever 10), on the default sampler's segmenter: the latter is
        // what `segment` and `evaluate` give by default. The paper's rows above keep the
        // reference CRF on every pixel.
        plan.append(ExperimentVariant(table: .crf, id: "crf/\(slug(defaultSampler))+rules",
                                      name: label(defaultSampler) + " + prediction rules", localizers: main,
                                      sampler: defaultSampler, adjustment: .untagged, localizerWeight: LocalizerFusion.defaultWeight))
        plan.append(ExperimentVariant(table: .crf, id: "crf/\(slug(defaultSampler))+rules+crf",
                                      name: label(defaultSampler) + " + prediction rules + CRF", localizers: main,
                                      sampler: defaultSampler, crf: .segmenterDefault, adjustment: .untagged,
                                      localizerWeight: LocalizerFusion.defaultWeight))
        return plan
    }
}
