import DivSegCore
import DivSegRegistry

/// Progress bars for the two phases of a retraining (shown on a terminal only).
final class PhaseProgress {
    private var sampling: ProgressReporter?
    private var training: ProgressReporter?

    func update(_ phase: SegmenterRetrainer.Phase) {
        switch phase {
        case .sampling(let done, let total):
            if sampling == nil { sampling = ProgressReporter(total: total, label: "sampling") }
            sampling?.update(to: done)
            if done == total { sampling?.finish() }
        case .training(let fraction):
            if training == nil { training = ProgressReporter(total: 1000, label: "segmenter") }
            training?.update(to: Int(fraction * 1000))
        }
    }

    func finish() {
        training?.finish()
    }
}
