import ArgumentParser
import DivSeg
import DivSegCore
import DivSegDatasets
import DivSegExperiments
import DivSegIO
import Foundation


extension DivSegRegistry {
    /// `divseg-registry features IMAGE… --out PATH`: hypercolumn files for images;
    /// without `--out`, the feature cache is filled instead (the sharded first stage of a cluster run).
    struct Features: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compute VGG-16 hypercolumn features (4224×64×84) and the global descriptor of images.",
            discussion: """
                Each image is resized to 256×336 (bilinear) and written as an HDF5 file with the \
                datasets 'hypercolumn' (4224×64×84, channel-major) and 'global', in float16 \
                (45 MB per image; about 3 significant digits) or, with --storage float32, exactly \
                (90 MB).

                With one image, --out is the output file; with several, a directory that receives \
                <image name>.h5 per image.

                Without --out, the feature cache (--cache) is filled instead, as the other \
                commands store it: the compact per-image state (block5_conv3 and the global \
                descriptor, ≈0.35 MB per image; what CAM-style localizers and dense labels read), \
                and with --full also the full hypercolumn entries (≈17.5 MB per image; what \
                evaluate and mlp localizers read). With --dataset SPEC [--split S] the dataset's \
                images are the input. --shard i/n (or a Slurm job array / Kubernetes Indexed Job) takes \
                only every n-th image, starting at the i-th, of the images in the order given (a \
                dataset's in id order): a cluster stage that fills one shared cache.
                """)

        @Argument(help: "PNG or JPEG images.")
        var images: [String] = []

        @Option(name: .shortAndLong, help: "Output .h5 file (one image) or directory (several); without it the features go into the feature cache.")
        var out: String?

        @Option(help: "Take the images of this dataset (coco:DIR, voc:DIR or tags:FILE.csv) instead of arguments.")
        var dataset: String?
        @Option(help: "With --dataset: train, val, trainval or a file of image ids (default: every image).")
        var split: String?
        @Option(parsing: .unconditional,
                help: "With --dataset: at most this many images (first in id order), \(ExperimentRunner.evaluationLimitRange.boundText).")
        var limit: Int?
        @OptionGroup var cacheOptions: CacheOptions
        @Flag(help: "Without --out: also write full hypercolumn entries (≈17.5 MB per image) into the cache, not only the compact state.")
        var full = false
        @OptionGroup var shardOptions: ShardOptions

        @Option(help: "Element type on disk: \(HDF5Storage.allCases.map(\.rawValue).joined(separator: " or ")).")
        var storage: HDF5Storage = .float16

        @OptionGroup var backbone: BackboneOptions
        @Flag(help: "Print the result as JSON instead of text (files written, or what the cache got).") var json = false

        mutating func validate() throws {
            if images.isEmpty && dataset == nil { throw ValidationError("Give at least one image (or --dataset SPEC).") }
            if !images.isEmpty && dataset != nil { throw ValidationError("Give images or --dataset, not both.") }
            if dataset == nil && (split != nil || limit != nil) { throw ValidationError("--split and --limit select images of a --dataset; pass one.") }
            if let limit { try requireOption("limit", limit, in: ExperimentRunner.evaluationLimitRange, "images") }
            if out != nil && cacheOptions.cache != nil { throw ValidationError("--cache is where features go without --out; pass one of them.") }
            if out != nil && full { throw ValidationError("--full chooses what goes into the cache without --out; --out files always hold full hypercolumns.") }
        }

        func run() throws {
            let shard = try shardOptions.resolve() ?? .whole
            var all = images
            if let dataset {
                all = try Dataset.open(spec: dataset, split: split).samples.filter(\.imageExists).map(\.imagePath)
                if let limit { all = Array(all.prefix(limit)) }
                guard !all.isEmpty else { throw CommandFailure("No images in \(dataset) (split \(split ?? "all")).") }
            }
            let images = shard.select(all)
            if !shard.isWhole { printError("note: shard \(shard): \(images.count) of \(all.count) images") }
            guard let out else { return try fillCache(images) }
            // Outputs first (clashes, special files): refused before the weights are loaded.
            // Planned for all images, so that every shard reads --out the same way (a folder
            // for several images even when a shard gets one).
            let targets = shard.select(try FeatureFileWriter.outputPaths(for: all, out: out))
            guard !images.isEmpty else { return }
            let extractor = try HypercolumnExtractor(weightsAt: backbone.resolvedWeightsPath())
            let writer = FeatureFileWriter(extractor: extractor, storage: storage)
            var progress = ProgressReporter(total: images.count, label: "features")
            let outcomes = writer.write(images: images, to: targets) { _ in progress.advance() }
            progress.finish()
            let failures = outcomes.compactMap { $0 }
            for failure in failures { printError("error: \(failure)") }
            if json {
                struct Written: Encodable { var image: String; var out: String }
                struct Output: Encodable { var files: [Written]; var failures: [String] }
                let written = zip(zip(images, targets), outcomes).filter { $0.1 == nil }.map { Written(image: $0.0.0, out: $0.0.1) }
                try JSONOutput.print(Output(files: written, failures: failures.map { "\($0)" }))
            }
            if !failures.isEmpty {
                throw ExitCode(failures.count == images.count ? 1 : 2)
            }
        }

        /// Without `--out`: makes sure every image has a valid state entry (and with `--full` a
        /// full entry) in the cache, computed only when missing or stale; a bad image is
        /// reported by name and the rest go on.
        private func fillCache(_ images: [String]) throws {
            let weights = try backbone.resolvedWeightsPath()
            let cache = try cacheOptions.open(weights: weights)
            let extractor = try HypercolumnExtractor(weightsAt: weights)
            var progress = ProgressReporter(total: max(images.count, 1), label: "features", lines: true)
            var summary = FeatureCache.Summary()
            var failures: [String] = []
            for image in images {
                do {
                    // A full entry first, so that the state is then cut from it, not computed again.
                    let one = full ? try cache.precompute([image], extractor: extractor)
                        : try cache.precomputeStates([image], extractor: extractor)
                    if full { try cache.precomputeStates([image], extractor: extractor) }
                    summary.hits += one.hits; summary.computed += one.computed; summary.recomputed += one.recomputed
                } catch {
                    failures.append("\(image): \(error)")
                }
                progress.advance()
            }
            progress.finish()
            for failure in failures { printError("error: \(failure)") }
            if json {
                struct Output: Encodable {
                    var cache: String, entries: String, images: Int, computed: Int, recomputed: Int, alreadyThere: Int
                    var failures: [String]
                }
                try JSONOutput.print(Output(cache: cache.directory, entries: full ? "full entries and states" : "states",
                                            images: images.count, computed: summary.computed, recomputed: summary.recomputed,
                                            alreadyThere: summary.hits, failures: failures))
            } else {
                print("feature cache \(cache.directory) (\(full ? "full entries and states" : "states")): \(summary.computed) computed, \(summary.recomputed) recomputed, "
                  + "\(summary.hits) already there (\(images.count) images)")
            }
            if !failures.isEmpty {
                throw ExitCode(failures.count == images.count ? 1 : 2)
            }
        }
    }
}
