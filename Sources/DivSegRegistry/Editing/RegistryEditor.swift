import DivSeg
import DivSegIO
import Foundation
import DivSegDatasets

/// Changes a registry folder: adds and removes class bundles and retrains the shared
/// segmenter (BundlesAndRegistries.md). Every `divseg-registry` mutation is one call here.
///
/// Each change
/// - takes the registry's exclusive lock (``RegistryLock``), waiting up to ``lockTimeout``
///   for another change to finish;
/// - completes a change that a crashed command left half-done, and deletes leftovers of
///   changes that never reached their commit point;
/// - stages everything new (the bundle copy, the new segmenter, `labels.json`) in a hidden
///   folder and commits it with a journal (``RegistryTransaction``), so that a crash at any
///   point leaves the old or the new state, never a mix;
/// - retrains the segmenter for the new class set (unless told not to), re-sampling only
///   the images whose sample key changed (``SampleStore``).
///
/// ```swift
/// let weights = try WeightsLocator.resolve(nil)
/// let retrainer = SegmenterRetrainer(extractor: try HypercolumnExtractor(weightsAt: weights),
///                                    cache: try FeatureCache(directory: ".divseg-cache/features", weightsAt: weights))
/// let editor = RegistryEditor(directory: "classes", backbone: try BackboneIdentity.vgg16(weightsAt: weights),
///                             retrainer: retrainer)
/// let report = try editor.add(bundleAt: "new-bundles/giraffe")   // copies, retrains
/// print(report.summary)
/// try editor.remove("zebra", retrain: false)                       // segmenter now stale
/// try editor.retrain()
/// ```
public struct RegistryEditor: Sendable {
    /// The registry folder.
    public let directory: String
    /// The feature extractor bundles must have been trained on.
    public var backbone: BundleManifest.BackboneInfo
    /// Trains the segmenter; a change that retrains without one throws
    /// ``RegistryError/noRetrainer(directory:)`` before anything is touched.
    public var retrainer: SegmenterRetrainer?
    /// Seconds to wait for another command's lock before giving up; within ``lockTimeoutRange``.
    public var lockTimeout: Double = Self.defaultLockTimeout
    /// The default ``lockTimeout``, in seconds.
    public static let defaultLockTimeout: Double = 60
    /// The ``lockTimeout``s accepted (``RegistryLock/timeoutRange``): a NaN, infinite or
    /// negative wait would never end (or never start); a day is longer than any change of a
    /// registry takes. Others make every change throw ``RegistryError/invalidLockTimeout(_:)``.
    public static let lockTimeoutRange: ClosedRange<Double> = RegistryLock.timeoutRange
    /// The dense background rule to retrain with; nil (the default) keeps the rule recorded
    /// in the registry's `labels.json` (``LabelLedger/background``), ``DenseBackground/threshold``
    /// when none is. The rule used is recorded with the new segmenter.
    ///
    /// ```swift
    /// editor.background = .none       // the classes cover every pixel (stuff + things)
    /// try editor.retrain()            // later add/remove keep "none" without being told
    /// ```
    public var background: DenseBackground?
    /// The self-training rounds to retrain with (``SelfTraining/rounds``); nil (the default)
    /// keeps the rounds recorded in `labels.json` (``LabelLedger/selfTrainingRounds``), the
    /// retrainer's own setting when none are. The rounds used are recorded with the new
    /// segmenter, like ``background``.
    ///
    /// ```swift
    /// editor.selfTrainingRounds = 1   // one round of self-training, kept by later add/remove
    /// ```
    public var selfTrainingRounds: Int?
    /// The self-training folds to retrain with (``SelfTraining/folds``); nil keeps the
    /// recorded ones (``LabelLedger/selfTrainingFolds``), like ``selfTrainingRounds``.
    public var selfTrainingFolds: Int?
    /// The label refinement to retrain with (``SegmenterRetrainer/refinement``); nil (the
    /// default) keeps the one recorded in `labels.json` (``LabelLedger/labelRefinement``), the
    /// retrainer's own setting when none is. The one used is recorded with the new segmenter.
    ///
    /// ```swift
    /// editor.refinement = LabelRefinement(method: .crf)   // kept by later add/remove
    /// ```
    public var refinement: LabelRefinement?
    /// Reuse and fill the registry's sample store when retraining (default true).
    public var useSampleStore = true
    /// The sample store's folder; nil: `<registry>/.samples` (``SampleStoreLocation`` gives
    /// the command line's default, the feature cache folder).
    public var sampleStoreDirectory: String?
    /// The sample store used when retraining and reported by ``verify()``.
    public var sampleStore: SampleStore {
        sampleStoreDirectory.map { SampleStore(directory: $0) } ?? SampleStore(registry: directory)
    }
    /// Receives notes (e.g. damaged sample-store entries).
    public var log: (@Sendable (String) -> Void)?
    /// Ends the process at this point of the commit, as a crash would (tests only).
    @_spi(Testing) public var simulatedCrash: CrashPoint?
    /// Makes this operation of the commit fail, as a refused rename would (tests only; only
    /// ``CrashPoint/operation(_:)`` is used).
    @_spi(Testing) public var simulatedFailure: CrashPoint?
    /// Called at every commit step (``CrashPoint``) of a change, on the committing thread
    /// while it holds the exclusive commit lock, so that a test can run readers exactly
    /// between two steps (tests only).
    @_spi(Testing) public var commitObserver: (@Sendable (CrashPoint) -> Void)?

    public init(directory: String, backbone: BundleManifest.BackboneInfo, retrainer: SegmenterRetrainer? = nil) {
        self.directory = directory
        self.backbone = backbone
        self.retrainer = retrainer
    }

    // MARK: - Changes

    /// Validates the bundle at `source` and copies it into the registry as `<name>/`, then
    /// (with `retrain`) retrains the segmenter. The registry folder is created if missing.
    ///
    /// ```swift
    /// let report = try editor.add(bundleAt: "/tmp/giraffe")
    /// print(report.label!)   // the id giraffe had before, if it was ever registered here
    /// ```
    ///
    /// - Throws: ``BundleError`` for a bundle that fails validation (hash, schema, paths,
    ///   backbone, unreadable weights or corpus); ``RegistryError/duplicateClass(name:existingBundle:)``
    ///   when its name or an alias is taken; ``RegistryError/bundleExists(path:)``; lock,
    ///   read-only and write errors. Nothing is changed then.
    @discardableResult
    public func add(bundleAt source: String, retrain: Bool = true,
                    progress: ((SegmenterRetrainer.Phase) -> Void)? = nil) throws -> ChangeReport {
        let start = Date()
        if retrain && retrainer == nil { throw RegistryError.noRetrainer(directory: directory) }
        // A bad bundle is refused before the registry is touched at all.
        let candidate = try Self.validateBundle(at: source, backbone: backbone)
        try createFolderIfMissing()
        let lock = try RegistryLock.acquire(registry: directory, timeout: lockTimeout, purpose: "add \(source)")
        defer { lock.release() }
        try tidy()
        let current = try currentRegistry()
        let names = Set([candidate.name] + candidate.manifest.aliases.map(ClassNames.canonical))
        for bundle in current.bundles {
            let taken = Set([bundle.name] + bundle.manifest.aliases.map(ClassNames.canonical))
            if let clash = names.intersection(taken).sorted().first {
                throw RegistryError.duplicateClass(name: clash, existingBundle: bundle.directory)
            }
        }
        let destination = (directory as NSString).appendingPathComponent(candidate.name)
        guard !FileManager.default.fileExists(atPath: destination) else { throw RegistryError.bundleExists(path: destination) }

        let transaction = try RegistryTransaction.begin(in: directory)
        do {
            let staged = transaction.stagedPath(candidate.name)
            try FileManager.default.createDirectory(atPath: staged, withIntermediateDirectories: false)
            for file in [candidate.manifest.localizer.file, "corpus.csv", "manifest.json"] {
                try DurableFile.copy(from: (candidate.directory as NSString).appendingPathComponent(file),
                                     to: (staged as NSString).appendingPathComponent(file))
            }
            // The copy is checked again: the source may have changed while it was read.
            let stagedBundle = try ClassBundle(at: staged, backbone: backbone)
            guard stagedBundle.manifest == candidate.manifest else {
                throw BundleError.badManifest(bundle: source, detail: "the bundle changed while it was being copied; try again")
            }
            let next = Registry.assemble(directory: directory, candidates: current.bundles + [stagedBundle],
                                         problems: [], ledger: current.ledger)
            guard next.labels[candidate.name] != nil else { throw RegistryError.noFreeLabel(className: candidate.name) }
            var operations: [RegistryTransaction.Operation] = [.rename(from: transaction.stagedName(candidate.name), to: candidate.name)]
            var result: SegmenterRetrainer.Result?
            var segmenterOperations: [RegistryTransaction.Operation] = []
            var segmenterSHA = next.ledger.segmenterSHA256
            var rule = next.ledger.background
            var rounds = (next.ledger.selfTrainingRounds, next.ledger.selfTrainingFolds)
            var refined = next.ledger.labelRefinement
            if retrain {
                let (ops, trained, sha) = try stageSegmenter(next, in: transaction, progress: progress)
                segmenterOperations = ops
                segmenterSHA = sha
                result = trained
                rule = recordedRule(trained)
                rounds = recordedRounds(trained)
                refined = recordedRefinement(trained)
            }
            operations += try stageLedger(next, segmenterSHA256: segmenterSHA, background: rule,
                                          selfTraining: rounds, refinement: refined, in: transaction)
            operations += segmenterOperations
            operations.append(.remove(path: transaction.stagingName))
            try transaction.commit(operations, lockTimeout: lockTimeout, crash: simulatedCrash, failure: simulatedFailure,
                                   observer: commitObserver)
            let after = try currentRegistry()
            return ChangeReport(change: .added(candidate.name), label: after.labels[candidate.name], registry: after,
                                retraining: result, removedSegmenter: false, seconds: Date().timeIntervalSince(start))
        } catch {
            if !RegistryTransaction.isPending(in: directory) { transaction.abandon() }
            throw error
        }
    }

    /// Removes a class (by name or alias; a refused bundle by its directory name), then
    /// (with `retrain`) retrains the segmenter — or deletes it when no class is left. The
    /// class's label id stays reserved for it.
    ///
    /// ```swift
    /// try editor.remove("zebra")
    /// ```
    ///
    /// - Throws: ``RegistryError/classNotFound(name:directory:known:)``, lock, read-only and
    ///   write errors, training errors. Nothing is changed then.
    @discardableResult
    public func remove(_ className: String, retrain: Bool = true,
                       progress: ((SegmenterRetrainer.Phase) -> Void)? = nil) throws -> ChangeReport {
        let start = Date()
        if retrain && retrainer == nil { throw RegistryError.noRetrainer(directory: directory) }
        let lock = try RegistryLock.acquire(registry: directory, timeout: lockTimeout, purpose: "remove \(className)")
        defer { lock.release() }
        try tidy()
        let current = try currentRegistry()
        let target: String   // directory name inside the registry
        let name: String
        if let bundle = current.bundle(named: className) {
            target = (bundle.directory as NSString).lastPathComponent
            name = bundle.name
        } else if let problem = current.problems.first(where: { ($0.bundle as NSString).lastPathComponent == className }) {
            target = (problem.bundle as NSString).lastPathComponent
            name = className
        } else {
            throw RegistryError.classNotFound(name: className, directory: directory,
                                              known: current.summaries().map(\.name))
        }
        let label = current.labels[name] ?? current.ledger.label(of: name)
        let transaction = try RegistryTransaction.begin(in: directory)
        do {
            var operations: [RegistryTransaction.Operation] = [.rename(from: target, to: transaction.stagedName("removed-" + target))]
            let remaining = current.bundles.filter { ($0.directory as NSString).lastPathComponent != target }
            let next = Registry.assemble(directory: directory, candidates: remaining, problems: [], ledger: current.ledger)
            var result: SegmenterRetrainer.Result?
            var removedSegmenter = false
            var segmenterOperations: [RegistryTransaction.Operation] = []
            var segmenterSHA = next.ledger.segmenterSHA256
            var rule = next.ledger.background
            var rounds = (next.ledger.selfTrainingRounds, next.ledger.selfTrainingFolds)
            var refined = next.ledger.labelRefinement
            if retrain {
                if next.bundles.isEmpty {
                    var info = stat()
                    if lstat(current.segmenterPath, &info) == 0 {
                        segmenterOperations.append(.remove(path: Registry.segmenterFileName))
                        removedSegmenter = true
                    }
                    segmenterSHA = nil
                } else {
                    let (ops, trained, sha) = try stageSegmenter(next, in: transaction, progress: progress)
                    segmenterOperations = ops
                    segmenterSHA = sha
                    result = trained
                    rule = recordedRule(trained)
                    rounds = recordedRounds(trained)
                    refined = recordedRefinement(trained)
                }
            }
            operations += try stageLedger(next, segmenterSHA256: segmenterSHA, background: rule,
                                          selfTraining: rounds, refinement: refined, in: transaction)
            operations += segmenterOperations
            operations.append(.remove(path: transaction.stagingName))
            try transaction.commit(operations, lockTimeout: lockTimeout, crash: simulatedCrash, failure: simulatedFailure,
                                   observer: commitObserver)
            let after = try currentRegistry()
            return ChangeReport(change: .removed(name), label: label, registry: after, retraining: result,
                                removedSegmenter: removedSegmenter, seconds: Date().timeIntervalSince(start))
        } catch {
            if !RegistryTransaction.isPending(in: directory) { transaction.abandon() }
            throw error
        }
    }

    /// Retrains the segmenter for the registry's current classes (and records label ids of
    /// bundles that were copied in by hand).
    ///
    /// ```swift
    /// let report = try editor.retrain()
    /// print(report.retraining!.samples.summary)
    /// ```
    ///
    /// - Throws: ``RegistryError/empty(_:)`` when no bundle is usable; lock, read-only,
    ///   write and training errors.
    @discardableResult
    public func retrain(progress: ((SegmenterRetrainer.Phase) -> Void)? = nil) throws -> ChangeReport {
        let start = Date()
        guard retrainer != nil else { throw RegistryError.noRetrainer(directory: directory) }
        let lock = try RegistryLock.acquire(registry: directory, timeout: lockTimeout, purpose: "retrain")
        defer { lock.release() }
        try tidy()
        let current = try currentRegistry()
        guard !current.bundles.isEmpty else { throw RegistryError.empty(directory) }
        let transaction = try RegistryTransaction.begin(in: directory)
        do {
            let (ops, trained, sha) = try stageSegmenter(current, in: transaction, progress: progress)
            var operations = try stageLedger(current, segmenterSHA256: sha, background: recordedRule(trained),
                                             selfTraining: recordedRounds(trained),
                                             refinement: recordedRefinement(trained), in: transaction)
            operations += ops
            operations.append(.remove(path: transaction.stagingName))
            try transaction.commit(operations, lockTimeout: lockTimeout, crash: simulatedCrash, failure: simulatedFailure,
                                   observer: commitObserver)
            let after = try currentRegistry()
            return ChangeReport(change: .retrained, label: nil, registry: after, retraining: trained,
                                removedSegmenter: false, seconds: Date().timeIntervalSince(start))
        } catch {
            if !RegistryTransaction.isPending(in: directory) { transaction.abandon() }
            throw error
        }
    }

    /// Checks the whole registry: every bundle (manifest, hash, backbone, that its weights
    /// load and its corpus parses), the label ledger, and that the segmenter fits the class
    /// set. An interrupted change is completed first (which needs write access); otherwise
    /// nothing is written.
    ///
    /// ```swift
    /// let report = try RegistryEditor(directory: "classes", backbone: identity).verify()
    /// print(report.summary)
    /// ```
    public func verify() throws -> VerificationReport {
        let registry = try Registry.open(directory, backbone: backbone)
        var problems = registry.problems.map(\.description)
        var notes: [String] = []
        var checked = 0
        for bundle in registry.bundles {
            do {
                _ = try Self.validateBundle(at: bundle.directory, backbone: backbone)
                checked += 1
            } catch {
                problems.append("\(error)")
            }
        }
        do {
            let ledger = try LabelLedger.read(registry: directory)
            let unrecorded = registry.bundles.map(\.name).filter { ledger.label(of: $0) == nil }
            if !unrecorded.isEmpty {
                notes.append("label ids of \(unrecorded.joined(separator: ", ")) are not yet recorded in \(LabelLedger.fileName); the next add, remove or retrain records them")
            }
        } catch {
            problems.append("\(error)")
        }
        var status = registry.segmenterStatus
        switch status {
        case .current:
            // The header fits; the whole file must load (attributes in range, finite weights)
            // and match the SHA-256 recorded when it was committed.
            do { _ = try registry.loadSegmenter() } catch {
                problems.append("segmenter: \(error)")
                status = .unreadable("\(error)")
            }
            if registry.ledger.segmenterSHA256 == nil {
                notes.append("no SHA-256 of \(Registry.segmenterFileName) is recorded in \(LabelLedger.fileName) (written by an older divseg); the next add, remove or retrain records it")
            }
        case .notNeeded: break
        case .stale:
            // Say what is actually wrong when it is not a change of classes.
            var loadError: (any Error)?
            do { _ = try registry.loadSegmenter() } catch { loadError = error }
            if case RegistryError.segmenterMismatch(_, let detail)? = loadError {
                problems.append("segmenter: \(detail)")
            } else {
                problems.append("segmenter: \(status)")
            }
        default: problems.append("segmenter: \(status)")
        }
        let leftovers = RegistryTransaction.leftovers(in: directory)
        if !leftovers.isEmpty {
            notes.append("\(leftovers.count) leftover staging entr\(leftovers.count == 1 ? "y" : "ies") (\(leftovers.joined(separator: ", "))) of an interrupted or running change; the next add, remove or retrain deletes them")
        }
        let usage = DiskUsage.of(sampleStore.directory)
        let entries = sampleStore.entryCount()
        notes.append("sample store: \(entries) entr\(entries == 1 ? "y" : "ies"), \(DiskUsage.text(usage.bytes)) in "
            + "\(sampleStore.directory) (a cache; safe to delete)")
        return VerificationReport(registry: registry, checkedBundles: checked, problems: problems, notes: notes,
                                  segmenter: status)
    }

    /// Makes a registry that an interrupted or failed change left blocked usable again
    /// (`divseg-registry verify --repair`): takes the mutation lock, completes or undoes
    /// the change its journal describes, sets an invalid journal aside (renamed to
    /// `.transaction.json.invalid-<time>`, never deleted), and deletes staging leftovers.
    /// Returns one line per action taken.
    ///
    /// ```swift
    /// for line in try RegistryEditor(directory: "classes", backbone: identity).repair() { print(line) }
    /// ```
    public func repair() throws -> [String] {
        let lock = try RegistryLock.acquire(registry: directory, timeout: lockTimeout, purpose: "verify --repair")
        defer { lock.release() }
        var actions: [String] = []
        do {
            if try RegistryTransaction.recover(in: directory, lockTimeout: lockTimeout) {
                actions.append("completed an interrupted change")
            }
        } catch RegistryError.invalidJournal(_, let reason) {
            let name = try RegistryTransaction.setJournalAside(in: directory)
            actions.append("set the invalid change journal aside as '\(name)' (\(reason)); nothing it listed was done")
        }
        let leftovers = RegistryTransaction.leftovers(in: directory)
        RegistryTransaction.removeLeftovers(in: directory)
        if !leftovers.isEmpty { actions.append("deleted staging leftovers: \(leftovers.joined(separator: ", "))") }
        return actions
    }

    /// Validates a bundle directory for use: ``ClassBundle`` checks (manifest, schema, file
    /// names, hash, backbone), its localizer weights load and fit the manifest, and its
    /// corpus parses.
    ///
    /// ```swift
    /// let bundle = try RegistryEditor.validateBundle(at: "new/giraffe", backbone: identity)
    /// ```
    ///
    /// - Throws: ``BundleError``.
    public static func validateBundle(at path: String, backbone: BundleManifest.BackboneInfo) throws -> ClassBundle {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BundleError.missingFile(bundle: path, file: "bundle directory (manifest.json, localizer, corpus.csv)")
        }
        let bundle = try ClassBundle(at: path, backbone: backbone)
        _ = try bundle.loadLocalizer()
        _ = try bundle.corpus()
        return bundle
    }

    // MARK: - Internals

    private func createFolderIfMissing() throws {
        guard !FileManager.default.fileExists(atPath: directory) else { return }
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw RegistryError.readOnly(directory: directory, reason: "it does not exist and cannot be created (\(error.localizedDescription))")
        }
    }

    /// Completes an interrupted change and deletes leftovers of abandoned ones (lock held).
    private func tidy() throws {
        try RegistryTransaction.recover(in: directory, lockTimeout: lockTimeout)
        RegistryTransaction.removeLeftovers(in: directory)
    }

    /// The registry as it is now, with a strictly read ledger (a damaged one stops changes).
    private func currentRegistry() throws -> Registry {
        _ = try LabelLedger.read(registry: directory)
        return try Registry.open(directory, backbone: backbone)
    }

    /// Stages `labels.json` for `next` (its classes registered, all others retired).
    private func stageLedger(_ next: Registry, segmenterSHA256: String?, background: DenseBackground?,
                             selfTraining: (rounds: Int?, folds: Int?), refinement: LabelRefinement?,
                             in transaction: RegistryTransaction) throws -> [RegistryTransaction.Operation] {
        var ledger = next.ledger
        // Recorded in the same commit as the segmenter file it describes.
        ledger.segmenterSHA256 = segmenterSHA256
        ledger.background = background
        (ledger.selfTrainingRounds, ledger.selfTrainingFolds) = selfTraining
        ledger.labelRefinement = refinement
        ledger.retire(except: Set(next.bundles.map(\.name)))
        try DurableFile.write(try ledger.encoded(), to: transaction.stagedPath(LabelLedger.fileName))
        return [.rename(from: transaction.stagedName(LabelLedger.fileName), to: LabelLedger.fileName)]
    }

    /// The ledger's record of the rule a retraining used (nil for the default).
    private func recordedRule(_ result: SegmenterRetrainer.Result) -> DenseBackground? {
        result.sampler.denseBackground == .threshold ? nil : result.sampler.denseBackground
    }

    /// The ledger's record of the self-training rounds a retraining used (nil for the default).
    private func recordedRounds(_ result: SegmenterRetrainer.Result) -> (rounds: Int?, folds: Int?) {
        let used = result.selfTraining, defaults = SegmenterRetrainer.defaultSelfTraining
        return (used.rounds == defaults.rounds ? nil : used.rounds, used.folds == defaults.folds ? nil : used.folds)
    }

    /// The ledger's record of the label refinement a retraining used (nil for none).
    private func recordedRefinement(_ result: SegmenterRetrainer.Result) -> LabelRefinement? {
        result.refinement.isEnabled ? result.refinement : nil
    }

    /// Trains the segmenter for `next` and stages it.
    private func stageSegmenter(_ next: Registry, in transaction: RegistryTransaction,
                                progress: ((SegmenterRetrainer.Phase) -> Void)?) throws
        -> ([RegistryTransaction.Operation], SegmenterRetrainer.Result, String) {
        guard var retrainer else { throw RegistryError.noRetrainer(directory: directory) }
        retrainer.sampler.denseBackground = background ?? next.ledger.background ?? .threshold
        retrainer.selfTraining.rounds = selfTrainingRounds ?? next.ledger.selfTrainingRounds ?? retrainer.selfTraining.rounds
        retrainer.selfTraining.folds = selfTrainingFolds ?? next.ledger.selfTrainingFolds ?? retrainer.selfTraining.folds
        retrainer.refinement = refinement ?? next.ledger.labelRefinement ?? retrainer.refinement
        var store: SampleStore?
        if useSampleStore {
            store = sampleStore
            store!.log = log
        }
        let result = try retrainer.retrain(next, store: store, progress: progress)
        let staged = transaction.stagedPath(Registry.segmenterFileName)
        do { try result.segmenter.save(to: staged) } catch {
            throw RegistryError.writeFailed(path: staged, reason: "\(error)")
        }
        let sha: String
        do { sha = try FileDigest.sha256(ofFileAt: staged) } catch {
            throw RegistryError.writeFailed(path: staged, reason: "cannot read it back: \(error)")
        }
        return ([.rename(from: transaction.stagedName(Registry.segmenterFileName), to: Registry.segmenterFileName)], result, sha)
    }
}
