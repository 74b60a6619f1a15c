import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import DivSegDatasets

/// Trains the shared segmenter of a registry (TheMethod.md): on every image of the bundles'
/// corpora, each registered class tagged in the image contributes training points picked on
/// its localizer's score map by ``sampler`` — by default dense labels (every location of a
/// strided grid whose scaled score passes a threshold; background where no tagged class
/// does), with the paper's k diverse points (and k background points least similar to
/// them) one setting away — and one segmenter is trained on the pooled points. With a ``SampleStore``, picks of
/// earlier retrainings are reused (see ``retrain(_:store:progress:)``), and images whose
/// picks are all stored need no file; the others are found through ``dataRoots``. Changing a registry
/// folder (lock, commit) is ``RegistryEditor``'s job; this type writes nothing but store
/// entries.
///
/// ```swift
/// let retrainer = SegmenterRetrainer(extractor: extractor, cache: cache)
/// let result = try retrainer.retrain(registry, store: SampleStore(registry: registry.directory))
/// print(result.report.epochLosses, result.points, result.samples.summary)
/// ```
public struct SegmenterRetrainer: Sendable {
    public var extractor: HypercolumnExtractor
    public var cache: FeatureCache
    /// Default: dense labels at score 0.2 on every 4th row and column — chosen on coco-mini's
    /// train split with CAM-style localizers (32.5 mIoU there against 21.2 for the paper's
    /// diverse k = 20; docs/RESULTS.md). `PointSampler()` gives the paper's setting.
    public var sampler: PointSampler = Self.defaultSampler
    /// The default ``sampler`` (what `retrain --help` states as its defaults).
    public static let defaultSampler: PointSampler = {
        var sampler = PointSampler(strategy: .dense)
        sampler.denseStride = 4
        return sampler
    }()
    public var trainer = SegmenterTrainer()
    /// Rounds of self-training after the first training (``SelfTraining``, issue #11 lever
    /// 3); ``defaultSelfTraining`` by default.
    public var selfTraining: SelfTraining = Self.defaultSelfTraining
    /// The default ``selfTraining`` (what `retrain --help` states as its default).
    public static let defaultSelfTraining = SelfTraining()
    /// How the score maps labels are sampled from are computed (``ScoreMapAugmentation``,
    /// issue #11 lever 4; part of the sample keys); ``defaultAugmentation`` by default.
    public var augmentation: ScoreMapAugmentation = Self.defaultAugmentation
    /// The default ``augmentation``.
    public static let defaultAugmentation = ScoreMapAugmentation()
    /// How dense training labels are refined before they are taken (``LabelRefinement``,
    /// issue #11 lever 1; part of the sample keys); ``defaultRefinement`` (none) by default.
    public var refinement: LabelRefinement = Self.defaultRefinement
    /// The default ``refinement``: none.
    public static let defaultRefinement = LabelRefinement()
    /// Where corpus images are found on this machine (``DataRoots``: `--data-root`,
    /// `DIVSEG_DATA_ROOT`, the registry's `settings.json`, default places). Only images
    /// without sample-store entries for their current keys are looked for at all.
    public var dataRoots = DataRoots()
    /// A memory cap for the segmenter's training rows (`retrain --max-memory 4G`): with it and
    /// a sample store, rows are not gathered in memory but read back from the store and
    /// streamed in shuffled blocks (``SegmenterTrainer/train(streaming:maxMemory:classes:progress:)``);
    /// when they all fit under the cap the segmenter is the same as without one. Nil: all
    /// rows in memory.
    public var maxMemory: MemorySize?
    /// The smallest ``maxMemory`` accepted: the default segmenter's weights, optimizer state
    /// and the process itself (``SegmenterTrainer/memoryReserve(inputs:hidden:classes:largestBlock:)``)
    /// with room for a few images' rows.
    public static let minimumMemoryCap = MemorySize(bytes: 256 << 20)

    public init(extractor: HypercolumnExtractor, cache: FeatureCache) {
        self.extractor = extractor
        self.cache = cache
    }

    /// One training image: its corpus.csv path and recorded SHA-256, and the registered
    /// classes tagged in it.
    public struct TrainingImage: Sendable, Equatable {
        /// The path recorded in corpus.csv, relative to the data root (absolute only in
        /// bundles written by older builds).
        public var path: String
        /// The SHA-256 recorded in corpus.csv: the image's identity in sample keys, so that
        /// an image whose picks are stored needs no file.
        public var sha256: String
        public var classes: [String]
        /// The corpora that list it (where to look for the file).
        public var corpora: [CorpusIdentity]
    }

    /// What a retraining did.
    public struct Result: Sendable {
        public var segmenter: Segmenter
        public var report: SegmenterTrainer.Report
        public var images: Int
        public var points: Int
        public var pointsPerLabel: [Int]
        public var samplingSeconds: Double
        public var trainingSeconds: Double
        /// How many picks came from the sample store and how many were computed.
        public var samples: SampleUsage
        /// The sampler the points were chosen with.
        public var sampler: PointSampler
        /// The self-training setting used, and what each of its rounds did (the segmenter
        /// is the last round's; ``report`` and ``pointsPerLabel`` are the first training's).
        public var selfTraining = SelfTraining()
        public var rounds: [SelfTraining.Round] = []
        /// The label refinement used (``SegmenterRetrainer/refinement``).
        public var refinement = LabelRefinement()
    }

    /// Progress of the two phases, for an ETA.
    /// `plan` comes first, before any image is sampled: what the two phases will do.
    public enum Phase: Sendable {
        case plan(SamplingPlan)
        case sampling(done: Int, total: Int), training(fraction: Double)
    }

    /// The union of the bundles' corpora, each image with its registered tags, ordered by path.
    ///
    /// - Throws: ``CorpusImageError/conflictingRecords(image:bundle:sha256:otherBundle:otherSHA256:)``
    ///   when two bundles record different contents for one path; ``BundleError`` for a
    ///   corpus that cannot be read.
    public func trainingImages(of registry: Registry) throws -> [TrainingImage] {
        try corpusIndex(of: registry).images
    }

    /// The training images and, per path, the bundles that list it (for messages).
    func corpusIndex(of registry: Registry) throws -> (images: [TrainingImage], owners: [String: [String]]) {
        var byPath: [String: TrainingImage] = [:]
        var owners: [String: [String]] = [:]
        let registered = Set(registry.bundles.map(\.name))
        for bundle in registry.bundles {
            let corpus = bundle.manifest.training.corpusIdentity
            for entry in try bundle.corpus().entries {
                let present = Set(entry.tags.map(ClassNames.canonical)).intersection(registered)
                if var image = byPath[entry.path] {
                    guard image.sha256 == entry.sha256 else {
                        throw CorpusImageError.conflictingRecords(image: entry.path, bundle: owners[entry.path]![0], sha256: image.sha256,
                                                                  otherBundle: bundle.directory, otherSHA256: entry.sha256)
                    }
                    image.classes = Array(Set(image.classes).union(present)).sorted()
                    if !image.corpora.contains(corpus) { image.corpora.append(corpus) }
                    byPath[entry.path] = image
                } else {
                    byPath[entry.path] = TrainingImage(path: entry.path, sha256: entry.sha256, classes: present.sorted(), corpora: [corpus])
                }
                owners[entry.path, default: []].append(bundle.directory)
            }
        }
        return (byPath.keys.sorted().map { byPath[$0]! }, owners)
    }

    /// Names come from user files: checked before sampling, so that a duplicate or reserved
    /// name is an error and never a trap in the dictionaries keyed by name.
    static func checkClassNames(of registry: Registry) throws {
        var seen: Set<String> = []
        for bundle in registry.bundles {
            if let problem = ClassNameRule.problem(name: bundle.name) {
                throw RegistryError.invalidClassName(name: bundle.name, reason: "\(problem) (bundle '\(bundle.directory)')")
            }
            guard seen.insert(bundle.name).inserted else {
                throw RegistryError.invalidClassName(name: bundle.name, reason: "two bundles use it ('\(bundle.directory)')")
            }
        }
    }

    /// Samples points on every training image and trains the segmenter; the result carries
    /// the registry's fingerprint. Does not write anything but sample-store entries.
    ///
    /// With a `store`, each image's picks are looked up by their ``SampleKey`` first and only
    /// the missing ones are computed (and stored): foreground picks per (image, class,
    /// localizer), background picks per (image, present classes). Picks are the same either
    /// way, and their rows are rounded as ``SamplePicks`` describes, so the segmenter is
    /// bit-identical with or without the store. The training set is ordered by image path,
    /// then class name, then background. ``SamplingStrategy/dense`` labels are stored per
    /// label under a key of the whole present set (``SampleKey/dense(image:classes:label:context:)``).
    ///
    /// Keys use each image's SHA-256 as recorded in corpus.csv, so an image whose keys are all
    /// in the store is never opened. The others are located through ``dataRoots`` and checked
    /// against the recorded hash before any sampling starts.
    ///
    /// - Throws: ``CorpusImageError`` (one error for all missing images, naming the roots
    ///   searched; a file with another hash), ``RegistryError/empty(_:)``, training errors.
    ///
    /// ```swift
    /// let result = try retrainer.retrain(registry, store: SampleStore(registry: registry.directory))
    /// print(result.samples.summary)
    /// ```
    public func retrain(_ registry: Registry, store: SampleStore? = nil,
                        progress: ((Phase) -> Void)? = nil) throws -> Result {
        guard !registry.bundles.isEmpty else { throw RegistryError.empty(registry.directory) }
        let (images, owners) = try corpusIndex(of: registry)
        try Self.checkClassNames(of: registry)
        let localizers = try Dictionary(registry.bundles.map { ($0.name, try $0.loadLocalizer()) },
                                        uniquingKeysWith: { first, _ in first })
        let channel = Dictionary(registry.segmenterClasses.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let identities = Dictionary(registry.bundles.map { ($0.name, SampleKey.LocalizerIdentity($0)) }, uniquingKeysWith: { first, _ in first })
        let context = SampleKey.Context(sampler: sampler, weightsSHA256: cache.weightsSHA256, featureRule: cache.featureRule,
                                        augmentation: augmentation, refinement: refinement)
        // The images that need their file — those with a key missing from the store — are
        // found and hash-checked before any work, so that a missing data root is one message
        // up front rather than a failure minutes into sampling. Images whose picks are all
        // stored are never opened: a registry with its sample store retrains without its data.
        let locator = ImageLocator(roots: dataRoots, registry: registry.directory, owners: owners)
        var files: [String: String] = [:]
        var missing: [TrainingImage] = []
        var needed = 0
        for image in images {
            let keys = sampleKeys(image, identities: identities, context: context).keys
            if let store, keys.allSatisfy(store.contains) { continue }
            needed += 1
            if let file = try locator.locate(image) { files[image.path] = file } else { missing.append(image) }
        }
        if let first = missing.first { throw try locator.missingError(first, missing: missing.count, needed: needed) }
        if let progress {
            // Counted from the files, before the long work: the caller can say what is coming.
            let features = FeaturePlan(cache: cache, imagePaths: Array(files.values), entry: .full, mirrored: augmentation.flip)
            progress(.plan(SamplingPlan(images: images.count, toSample: needed, usesStore: store != nil, features: features,
                                        epochs: trainer.epochs, selfTrainingRounds: selfTraining.rounds)))
        }
        let start = Date()
        var usage = SampleUsage()
        var set: SegmenterTrainingSet?
        var rows: [Float] = [], labels: [Int32] = [], globalCount: Int?
        // For self-training: each row's image, and the labels each image may take.
        var rowImages: [Int32] = [], allowed: [[Int32]] = []
        // With a cap and a store, only the keys are kept; the rows are read back in blocks.
        let streaming = maxMemory != nil && store != nil
        var streamedParts: [[SampleStoreRowSource.Part]] = []
        if streaming && selfTraining.rounds > 0 {
            // The rounds relabel every row in memory, which the memory cap is there to avoid.
            throw SegmenterError.invalidSetting(SettingViolation(
                owner: "SelfTraining", name: "rounds", value: "\(selfTraining.rounds)",
                requirement: "0 when the training rows are streamed under a memory cap (--max-memory); retrain without the cap or with --self-training-rounds 0"))
        }
        for (index, image) in images.enumerated() {
            // A stored entry that turns out damaged needs the file after all.
            let file = { () throws -> String in
                if let file = files[image.path] { return file }
                guard let file = try locator.locate(image) else { throw try locator.missingError(image, missing: 1, needed: 1) }
                return file
            }
            let keys = streaming ? sampleKeys(image, identities: identities, context: context).keys : []
            let failedBefore = usage.failedWrites
            let picks = try samplePicks(image, file: file, localizers: localizers, identities: identities,
                                        context: context, store: store, usage: &usage)
            if streaming {
                var parts: [SampleStoreRowSource.Part] = []
                for ((name, pick), key) in zip(picks, keys) {
                    if globalCount == nil { globalCount = pick.global.count }
                    guard pick.global.count == globalCount, pick.channels == FeatureGrid.channels else {
                        throw SegmenterError.dimensionMismatch(what: "The features of '\(image.path)'",
                                                               got: "\(pick.channels) + \(pick.global.count) values",
                                                               expected: "\(FeatureGrid.channels) + \(globalCount!)")
                    }
                    // Kept in memory only when its entry may not have been written.
                    parts.append(.init(key: key, label: Int32(name.map { channel[$0]! } ?? 0), count: pick.count,
                                       picks: usage.failedWrites > failedBefore ? pick : nil))
                }
                streamedParts.append(parts)
                progress?(.sampling(done: index + 1, total: images.count))
                continue
            }
            for (name, pick) in picks {
                if globalCount == nil { globalCount = pick.global.count }
                guard pick.global.count == globalCount, pick.channels == FeatureGrid.channels else {
                    throw SegmenterError.dimensionMismatch(what: "The features of '\(image.path)'",
                                                           got: "\(pick.channels) + \(pick.global.count) values",
                                                           expected: "\(FeatureGrid.channels) + \(globalCount!)")
                }
                let label = Int32(name.map { channel[$0]! } ?? 0)
                for r in 0..<pick.count {
                    rows.append(contentsOf: pick.row(r))
                    rows.append(contentsOf: pick.global)
                    labels.append(label)
                }
                rowImages.append(contentsOf: repeatElement(Int32(index), count: pick.count))
            }
            allowed.append(allowedLabels(image, channel: channel))
            progress?(.sampling(done: index + 1, total: images.count))
        }
        if streaming, let store, let maxMemory, let globalCount {
            var source = SampleStoreRowSource(store: store, globalCount: globalCount)
            for parts in streamedParts { source.append(parts) }
            let samplingSeconds = Date().timeIntervalSince(start)
            let trainStart = Date()
            var (segmenter, report) = try trainer.train(streaming: source, maxMemory: maxMemory,
                                                        classes: registry.segmenterClasses) { p in
                progress?(.training(fraction: p.fraction))
            }
            segmenter.fingerprint = registry.fingerprint
            var perLabel: [Int] = []
            for part in streamedParts.joined() where part.count > 0 {
                let label = Int(part.label)
                if perLabel.count <= label { perLabel += [Int](repeating: 0, count: label + 1 - perLabel.count) }
                perLabel[label] += part.count
            }
            var result = Result(segmenter: segmenter, report: report, images: images.count, points: source.rowCount,
                                pointsPerLabel: perLabel, samplingSeconds: samplingSeconds,
                                trainingSeconds: Date().timeIntervalSince(trainStart), samples: usage, sampler: sampler)
            result.refinement = refinement
            return result
        }
        if let globalCount {
            set = try SegmenterTrainingSet(features: rows, labels: labels, globalCount: globalCount)
        }
        let samplingSeconds = Date().timeIntervalSince(start)
        guard let trainingSet = set else { throw RegistryError.empty(registry.directory) }
        try selfTraining.validate()
        let trainStart = Date()
        let trainings = Double(selfTraining.rounds + 1)
        var (segmenter, report) = try trainer.train(on: trainingSet, classes: registry.segmenterClasses) { p in
            progress?(.training(fraction: p.fraction / trainings))
        }
        let firstCounts = trainingSet.labelCounts()
        let rounds = try selfTrain(&segmenter, set: trainingSet, groups: rowImages, allowed: allowed,
                                   classes: registry.segmenterClasses) { round, p in
            progress?(.training(fraction: (Double(round) + p) / trainings))
        }
        segmenter.fingerprint = registry.fingerprint
        var result = Result(segmenter: segmenter, report: report, images: images.count, points: trainingSet.count,
                            pointsPerLabel: firstCounts, samplingSeconds: samplingSeconds,
                            trainingSeconds: Date().timeIntervalSince(trainStart), samples: usage, sampler: sampler)
        result.selfTraining = selfTraining
        result.rounds = rounds
        result.refinement = refinement
        return result
    }

    /// The labels of one image's picks — each present class in name order, then background
    /// (nil) — and their sample keys. The image is identified by its recorded SHA-256.
    func sampleKeys(_ image: TrainingImage, identities: [String: SampleKey.LocalizerIdentity],
                    context: SampleKey.Context) -> (names: [String?], keys: [SampleKey]) {
        let digest = image.sha256
        let present = image.classes.map { ($0, identities[$0]!) }
        // One entry per label; the dense baseline keys every label by the whole present set.
        let names: [String?] = image.classes.map { Optional($0) } + [nil]
        let keys: [SampleKey] = names.map { name in
            if sampler.strategy == .dense {
                return SampleKey.dense(image: digest, classes: present, label: name ?? "background", context: context)
            }
            guard let name else { return SampleKey.background(image: digest, classes: present, context: context) }
            return SampleKey.foreground(image: digest, className: name, localizer: identities[name]!, context: context)
        }
        return (names, keys)
    }

    /// The picks of one image, foreground per class (in name order, `name` set) then
    /// background (`name` nil), from the store where it has them; `file` gives the image's
    /// file (located and hash-checked) when some must be computed.
    func samplePicks(_ image: TrainingImage, file: () throws -> String,
                             localizers: [String: any Localizer],
                             identities: [String: SampleKey.LocalizerIdentity], context: SampleKey.Context,
                             store: SampleStore?, usage: inout SampleUsage) throws -> [(name: String?, picks: SamplePicks)] {
        let (names, keys) = sampleKeys(image, identities: identities, context: context)
        func lookup(_ key: SampleKey) -> SamplePicks? {
            guard let store else { return nil }
            switch store.read(key, channels: FeatureGrid.channels, locationCount: FeatureGrid.locations) {
            case .hit(let picks): return picks
            case .missing: return nil
            case .damaged(let reason):
                usage.damagedEntries += 1
                store.log?("sample store: entry '\(store.path(for: key))' for '\(image.path)' (\(key.kind == .foreground ? "foreground" : "background")) \(reason); recomputing")
                return nil
            }
        }
        var found = keys.map(lookup)
        let reused = found.compactMap { $0?.count }.reduce(0, +)
        if found.contains(where: { $0 == nil }) {
            // Full hypercolumns only for the rows kept: from a full cache entry when one
            // exists, else the backbone again (the cache keeps only compact state entries).
            let compact = try cache.samplingFeatures(for: try file(), extractor: extractor)
            let full = compact.expanded()
            let mirror = augmentation.flip ? try cache.samplingFeatures(for: try file(), extractor: extractor, flipped: true) : nil
            var recomputed = 0
            func keep(_ index: Int, _ locations: [Int]) {
                let picks = SamplePicks(locations: locations, hypercolumns: full, global: compact.global)
                if let store, !store.write(picks, for: keys[index], className: names[index]) { usage.failedWrites += 1 }
                found[index] = picks
                recomputed += picks.count
            }
            if sampler.strategy == .dense {
                // Labels from every class's score jointly; no feature similarities needed.
                let scores = image.classes.enumerated().map {
                    (label: $0.offset + 1, scores: labelScores(localizers[$0.element]!, compact, mirror: mirror))
                }
                let points: [LabeledPoint]
                if refinement.isEnabled {
                    // Refined labels need the image's colours (issue #11, lever 1).
                    let path = try file()
                    let refineStart = Date()
                    let image: Image
                    do { image = try ImageDecoder.decodeRGB(contentsOf: path) } catch {
                        throw FeatureCache.CacheError.unreadableImage(path: path, reason: error.description)
                    }
                    points = try refinement.densePoints(image: image, scores: scores, sampler: sampler)
                    usage.refinementSeconds += Date().timeIntervalSince(refineStart)
                    usage.imagesRefined += 1
                } else {
                    points = try sampler.densePoints(scores: scores)
                }
                for index in names.indices where found[index] == nil {
                    let label = index == names.count - 1 ? 0 : index + 1
                    keep(index, points.filter { $0.label == label }.map(\.location))
                }
            } else {
                let similarity = try FeatureSimilarity(hypercolumns: full)
                for (i, name) in image.classes.enumerated() where found[i] == nil {
                    keep(i, try sampler.foregroundPicks(scores: labelScores(localizers[name]!, compact, mirror: mirror),
                                                        similarity: similarity))
                }
                if found[names.count - 1] == nil {
                    let taken = found.dropLast().flatMap { $0!.locations }
                    keep(names.count - 1, try sampler.backgroundPicks(foreground: taken, similarity: similarity))
                }
            }
            usage.imagesResampled += 1
            usage.picksRecomputed += recomputed
        } else {
            usage.imagesReused += 1
        }
        usage.picksReused += reused
        return zip(names, found).map { (name: $0, picks: $1!) }
    }
}

/// Finds the files of training images through ``DataRoots`` (candidates computed once per
/// corpus) and builds the one error for missing ones.
final class ImageLocator {
    let roots: DataRoots
    let registry: String
    let owners: [String: [String]]
    /// Candidates per corpus: settings.json is read once per retraining, not per image.
    private var byCorpus: [CorpusIdentity: [DataRoots.Candidate]] = [:]

    init(roots: DataRoots, registry: String, owners: [String: [String]]) {
        self.roots = roots; self.registry = registry; self.owners = owners
    }

    func candidates(_ image: SegmenterRetrainer.TrainingImage) throws -> [DataRoots.Candidate] {
        if image.path.hasPrefix("/") { return [DataRoots.Candidate(path: image.path, source: .recordedPath)] }
        var result: [DataRoots.Candidate] = []
        for corpus in image.corpora {
            if byCorpus[corpus] == nil { byCorpus[corpus] = try roots.candidates(for: corpus, registry: registry) }
            for candidate in byCorpus[corpus]! where !result.contains(candidate) { result.append(candidate) }
        }
        return result
    }

    func locate(_ image: SegmenterRetrainer.TrainingImage) throws -> String? {
        try roots.locate(image.path, sha256: image.sha256, in: candidates(image), bundles: owners[image.path] ?? [])
    }

    func missingError(_ image: SegmenterRetrainer.TrainingImage, missing: Int, needed: Int) throws -> CorpusImageError {
        .missing(image: image.path, corpus: image.corpora.map(\.description).joined(separator: ", "),
                 bundles: owners[image.path] ?? [], searched: try candidates(image), registry: registry,
                 missing: missing, needed: needed)
    }
}
