import ArgumentParser
import DivSeg
import DivSegCore
import DivSegRegistry

extension DivSegRegistry {
    /// `divseg-registry retrain [--registry DIR]`.
    struct Retrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the shared segmenter for the bundles in the registry.",
            discussion: """
                Labels points of every corpus image from the bundles' localizers — by default \
                \(SegmenterRetrainer.defaultSampler.strategy.rawValue) labels: every \
                \(SegmenterRetrainer.defaultSampler.denseStride)th grid row and column, a class where its \
                scaled score reaches \(SegmenterRetrainer.defaultSampler.denseThreshold), else background \
                (--sampling diverse with --points k is the paper's k diverse points per tagged class \
                and k background points) — then trains the segmenter (\(SegmenterTrainer().epochs) epochs, \
                batch \(SegmenterTrainer().batchSize)), then \(SegmenterRetrainer.defaultSelfTraining.rounds) \
                self-training rounds unless --self-training-rounds or labels.json say otherwise \
                (each relabels the points with the segmenter's prediction restricted to the image's \
                tags and background, and trains again). Picks already in the sample store \
                (<cache>/samples by default; config sample-store) are reused; --max-memory streams them. Runs under the registry's lock and replaces the \
                segmenter atomically. Before sampling, standard error says how many images are \
                sampled, how many come from the sample store and how many need the backbone; each \
                phase then shows its progress (lines off a terminal) and an estimate once its first \
                images are done.
                --sample-only fills the sample store without training, for shard i of n with \
                --shard i/n (or a Slurm job array / Kubernetes Indexed Job): shards run at once \
                on one registry (no registry lock is taken; entries are written atomically), and a \
                final retrain with the same sampling options finds every pick stored and only \
                trains — the segmenter one process would have trained.
                """)

        @OptionGroup var retrainOptions: RetrainOptions
        @Flag(help: "Print the result as JSON instead of text.") var json = false
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var cacheOptions: CacheOptions
        @OptionGroup var backbone: BackboneOptions
        @Flag(help: "Only fill the sample store (this shard's images with --shard); do not train.") var sampleOnly = false
        @OptionGroup var shardOptions: ShardOptions

        func validate() throws {
            if sampleOnly && retrainOptions.noSampleStore { throw ValidationError("--sample-only fills the sample store; it cannot be used with --no-sample-store.") }
            if sampleOnly && retrainOptions.remember { throw ValidationError("--remember is for a full retrain; shards running at once would all write settings.json.") }
            if !sampleOnly && shardOptions.shard != nil {
                throw ValidationError("--shard splits the sampling: use it with --sample-only, then run retrain without it to train.")
            }
        }

        func run() throws {
            if sampleOnly { return try fillSampleStore() }
            let editor = try retrainOptions.editor(registry: registryOptions, backbone: backbone, cache: cacheOptions,
                                                   retraining: true)
            for problem in try Registry.open(editor.directory, backbone: editor.backbone).problems {
                printError("warning: \(problem)")
            }
            let progress = PhaseProgress()
            let report = try editor.retrain(progress: progress.update)
            progress.finish()
            if json { try JSONOutput.print(ChangeOutput(report)) } else {
                print(report.summary)
                print("written to \(report.registry.segmenterPath)")
            }
            try retrainOptions.rememberDataRoot(registry: registryOptions)
        }

        /// `--sample-only`: this shard's picks into the sample store, without the registry lock.
        private func fillSampleStore() throws {
            let shard = try shardOptions.resolve() ?? .whole
            let editor = try retrainOptions.editor(registry: registryOptions, backbone: backbone, cache: cacheOptions,
                                                   retraining: true)
            var filler = SampleStoreFiller(retrainer: editor.retrainer!, background: editor.background)
            filler.refinement = editor.refinement
            filler.log = { printError("note: \($0)") }
            var progress: ProgressReporter?
            let report = try filler.fill(registry: editor.directory, backbone: editor.backbone, shard: shard,
                                         store: editor.sampleStore) { done, total in
                if progress == nil { progress = ProgressReporter(total: total, label: "sampling \(shard)", lines: true) }
                progress?.update(to: done)
            }
            progress?.finish()
            if json { try JSONOutput.print(SampleOnlyOutput(report)) } else { print(report.summary) }
            if report.usage.failedWrites > 0 {
                throw CommandFailure("\(report.usage.failedWrites) sample-store entries could not be written to \(report.store) (see the notes above); the final retrain would recompute them.")
            }
        }
    }

    /// What `retrain --sample-only --json` prints.
    struct SampleOnlyOutput: Encodable {
        var shard: String
        var trainingImages: Int
        var shardImages: Int
        var imagesReused: Int
        var imagesResampled: Int
        var picksRecomputed: Int
        var seconds: Double
        var store: String

        init(_ report: SampleStoreFiller.Report) {
            shard = report.shard.description
            trainingImages = report.totalImages
            shardImages = report.shardImages
            imagesReused = report.usage.imagesReused
            imagesResampled = report.usage.imagesResampled
            picksRecomputed = report.usage.picksRecomputed
            seconds = report.seconds
            store = report.store
        }
    }
}
