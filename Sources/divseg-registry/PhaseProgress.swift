import DivSegCore
import DivSegRegistry

/// One progress line or bar per phase of a long job (a new reporter whenever the phase's
/// label changes), for library calls that report `(label, done, total)`.
final class PhaseProgress {
    private var current: (label: String, reporter: ProgressReporter)?

    /// Shows `done` of `total` for the phase called `label`.
    func update(label: String, done: Int, total: Int) {
        if current?.label != label {
            current?.reporter.finish()
            current = (label, ProgressReporter(total: total, label: label))
        }
        current?.reporter.update(to: done)
        if done == total {
            current?.reporter.finish()
            current = nil
        }
    }

    /// A retraining's phases: sampling, then the segmenter.
    func update(_ phase: SegmenterRetrainer.Phase) {
        switch phase {
        case .sampling(let done, let total): update(label: "sampling", done: done, total: total)
        case .training(let fraction): update(label: "segmenter", done: Int(fraction * 1000), total: 1000)
        }
    }

    func finish() {
        current?.reporter.finish()
        current = nil
    }
}
