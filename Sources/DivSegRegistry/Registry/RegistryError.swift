import Foundation

/// Registry-level failures. Every message names the folder or file and says what to do.
///
/// ```swift
/// do {
///     _ = try RegistryEditor(directory: "classes", backbone: identity).remove("giraffe")
/// } catch let error as RegistryError {
///     print(error)   // e.g. "No class 'giraffe' in 'classes' (it has: elephant, zebra). …"
/// }
/// ```
public enum RegistryError: Error, Equatable, CustomStringConvertible {
    /// No registry folder at this path.
    case notFound(String)
    /// The registry has classes but no trained segmenter.
    case noSegmenter(String)
    /// The segmenter was trained for another class set.
    case staleSegmenter(String)
    /// The registry has no usable bundles.
    case empty(String)
    /// Another process holds the registry's lock (`holder`: what it wrote into the lock file).
    case locked(directory: String, holder: String?, waited: Double)
    /// The registry folder cannot be written (read-only file system, permissions).
    case readOnly(directory: String, reason: String)
    /// A file of the registry could not be written.
    case writeFailed(path: String, reason: String)
    /// The class (or one of its aliases) is already registered by another bundle.
    case duplicateClass(name: String, existingBundle: String)
    /// No class of that name or alias in the registry.
    case classNotFound(name: String, directory: String, known: [String])
    /// The destination bundle directory already exists in the registry.
    case bundleExists(path: String)
    /// A crashed change could not be completed (its journal is kept for the next attempt).
    case unfinishedTransaction(directory: String, reason: String)
    /// The change journal is not one this divseg wrote (a tampered or foreign file); nothing
    /// was done.
    case invalidJournal(path: String, reason: String)
    /// `labels.json` cannot be read.
    case damagedLedger(path: String, reason: String)
    /// Every label id 1…254 is taken.
    case noFreeLabel(className: String)
    /// The registry's `settings.json` cannot be read.
    case damagedSettings(path: String, reason: String)
    /// A name that ``ClassNameRule`` does not allow as a class name (`reason` says why).
    case invalidClassName(name: String, reason: String)
    /// The segmenter does not fit the registry's classes for a reason other than a change of
    /// classes (a refused bundle, a damaged ledger, a file that does not match its record).
    case segmenterMismatch(directory: String, detail: String)
    /// A change that retrains the segmenter was asked of a ``RegistryEditor`` made without a
    /// ``SegmenterRetrainer``.
    case noRetrainer(directory: String)
    /// A lock wait that is NaN, infinite or outside ``RegistryLock/timeoutRange`` (seconds):
    /// it would never end, or never start.
    case invalidLockTimeout(Double)

    public var description: String {
        switch self {
        case .notFound(let dir):
            return "No registry folder at '\(dir)'. Create it, or pass --registry DIR (or set DIVSEG_REGISTRY)."
        case .noSegmenter(let dir):
            return "The registry '\(dir)' has no trained segmenter yet. Run `divseg-registry retrain --registry \(dir)`."
        case .staleSegmenter(let dir):
            return "The segmenter in '\(dir)' was trained for another set of classes. Run `divseg-registry retrain --registry \(dir)` to bring it up to date (or pass --allow-stale to segment with it as it is, without the classes added since)."
        case .empty(let dir):
            return "The registry '\(dir)' has no usable class bundles. Add one with `divseg-registry add BUNDLE_DIR --registry \(dir)` (train one with `divseg-registry train CLASS --dataset … --out DIR`)."
        case .locked(let dir, let holder, let waited):
            let who = holder.map { " (\($0))" } ?? ""
            return "The registry '\(dir)' is being changed by another command\(who); gave up after waiting \(String(format: "%.0f", waited)) s. Wait for it to finish and retry, or pass a longer --lock-timeout."
        case .readOnly(let dir, let reason):
            return "The registry '\(dir)' cannot be changed: \(reason). Use a writable copy (pass --registry DIR), or fix the folder's permissions or mount."
        case .writeFailed(let path, let reason):
            return "Writing '\(path)' failed: \(reason). Check free space and permissions; the registry keeps its previous state."
        case .duplicateClass(let name, let existing):
            return "The class name '\(name)' is already used by the bundle '\(existing)'. Remove that class first (`divseg-registry remove \(name)`) or rename the new bundle."
        case .classNotFound(let name, let dir, let known):
            let list = known.isEmpty ? "it has no classes" : "it has: \(known.joined(separator: ", "))"
            return "No class '\(name)' in '\(dir)' (\(list)). `divseg-registry list` shows the classes."
        case .bundleExists(let path):
            return "The bundle directory '\(path)' already exists. Remove it first (`divseg-registry remove`) or add the bundle under another class name."
        case .unfinishedTransaction(let dir, let reason):
            return "The registry '\(dir)' has an unfinished change from a command that was interrupted, and it could not be completed now: \(reason). Run `divseg-registry verify --registry \(dir)` with write access to complete it."
        case .invalidJournal(let path, let reason):
            let dir = (path as NSString).deletingLastPathComponent
            return "The registry's change journal '\(path)' is not one divseg wrote (\(reason)); nothing was done. Run `divseg-registry verify --repair --registry \(dir)` to set it aside (it is kept, renamed) and use the registry again."
        case .damagedLedger(let path, let reason):
            return "The label-id ledger '\(path)' cannot be read (\(reason)). Restore it from a backup or version control; deleting it makes the registry assign label ids afresh (old label maps may then mean other classes)."
        case .noFreeLabel(let name):
            return "No free label id for '\(name)': ids 1…254 are all used or reserved. Remove classes you no longer need."
        case .damagedSettings(let path, let reason):
            return "The registry settings file '\(path)' cannot be read (\(reason)). Fix it, or delete it and record the data root again with `divseg-registry config data-root DIR`."
        case .invalidClassName(let name, let reason):
            let hint = ClassNameRule.suggestion(for: name).map { " Use e.g. '\($0)'." } ?? ""
            return "'\(name)' cannot be a class name: \(reason). A class name is \(ClassNameRule.summary).\(hint)"
        case .segmenterMismatch(let dir, let detail):
            return "The segmenter in '\(dir)' cannot be used: \(detail)."
        case .noRetrainer(let dir):
            return "Changing '\(dir)' with retraining needs a SegmenterRetrainer: create the RegistryEditor with `retrainer:`, use ClassRegistry (which always has one), or pass `retrain: false`. Nothing was changed."
        case .invalidLockTimeout(let seconds):
            return "A lock timeout of \(seconds) seconds cannot be used: it must be \(RegistryLock.timeoutRange.requirementText) seconds (a NaN, infinite or negative wait would never end or never start). Pass a finite number of seconds, e.g. 60."
        }
    }
}

extension RegistryError: LocalizedError {
    public var errorDescription: String? { description }
}
