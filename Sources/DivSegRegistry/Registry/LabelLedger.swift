import DivSeg
import Foundation

/// `labels.json` in a registry folder: every label id the registry ever assigned, including
/// those of classes that were removed, so that a label map written earlier never changes
/// meaning. A removed class's id is not given to another class (until all 254 ids are
/// used); adding the class again gives it its old id back.
///
/// Assignment (``assign(_:)``): background is 0 and 255 is "ignore"; a class in the ledger
/// keeps its id; a new class gets its preferred id (e.g. its VOC index) when no other class
/// ever had it, otherwise the lowest id never used. Only when every id has been used are
/// ids of removed classes recycled, least recently retired first.
///
/// ```swift
/// var ledger = try LabelLedger.read(registry: "classes")
/// let labels = try ledger.assign([(name: "giraffe", preferred: nil), (name: "cat", preferred: 8)])
/// ledger.retire(except: ["giraffe", "cat"], date: "2026-11-26T12:00:00Z")
/// try ledger.write(registry: "classes")
/// ```
public struct LabelLedger: Codable, Sendable, Equatable {
    /// One class's id.
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var label: Int
        /// When the id was assigned (ISO 8601).
        public var assigned: String
        /// When the class left the registry (ISO 8601); nil while it is registered.
        public var retired: String?

        public init(name: String, label: Int, assigned: String, retired: String? = nil) {
            self.name = name; self.label = label; self.assigned = assigned; self.retired = retired
        }
    }

    public static let fileName = "labels.json"
    public static let currentVersion = 1
    /// Largest class label (255 marks ignored pixels in label maps).
    public static let maximumLabel = 254

    public var version: Int
    /// Ordered by label id.
    public private(set) var entries: [Entry]
    /// SHA-256 of the `segmenter.h5` committed together with this ledger (nil: none, or
    /// written by an older divseg). `verify` and ``Registry/loadSegmenter()`` check it.
    public var segmenterSHA256: String?
    /// The background rule the segmenter was last trained with, when it is not the default
    /// ``DenseBackground/threshold`` (nil): ``DenseBackground/none`` marks a registry whose
    /// classes cover every pixel, and later `add`, `remove` and `retrain` keep the rule
    /// unless told otherwise (``RegistryEditor/background``). Part of the registry's state,
    /// so it travels with the folder (not in the per-machine settings.json).
    public var background: DenseBackground?
    /// The self-training rounds (``SelfTraining/rounds``) the segmenter was last trained
    /// with, when they differ from ``SegmenterRetrainer/defaultSelfTraining`` (nil): later
    /// `add`, `remove` and `retrain` keep them unless told otherwise
    /// (``RegistryEditor/selfTrainingRounds``).
    public var selfTrainingRounds: Int?
    /// The self-training folds (``SelfTraining/folds``) recorded with the rounds, when they
    /// differ from the default (nil).
    public var selfTrainingFolds: Int?
    /// The label refinement (``LabelRefinement``, issue #11 lever 1) the segmenter was last
    /// trained with, when it is not the default (none; nil): later `add`, `remove` and
    /// `retrain` keep it unless told otherwise (``RegistryEditor/refinement``).
    public var labelRefinement: LabelRefinement?

    /// An empty ledger.
    public init() {
        version = Self.currentVersion
        entries = []
    }

    /// The id recorded for a class, if any.
    public func label(of name: String) -> Int? {
        entries.first { $0.name == name }?.label
    }

    /// Reads `labels.json` of a registry folder; a missing file is an empty ledger.
    ///
    /// - Throws: ``RegistryError/damagedLedger(path:reason:)``.
    public static func read(registry directory: String) throws -> LabelLedger {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return LabelLedger() }
        let ledger: LabelLedger
        do {
            ledger = try JSONDecoder().decode(LabelLedger.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw RegistryError.damagedLedger(path: path, reason: "not a label ledger: \(error.localizedDescription)")
        }
        if let sha = ledger.segmenterSHA256, sha.count != 64 || !sha.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            throw RegistryError.damagedLedger(path: path, reason: "segmenterSHA256 '\(sha.prefix(80))' is not a SHA-256 in hex")
        }
        guard ledger.version == currentVersion else {
            throw RegistryError.damagedLedger(path: path, reason: "version \(ledger.version); this divseg reads version \(currentVersion)")
        }
        var names = Set<String>(), labels = Set<Int>()
        for entry in ledger.entries {
            guard (1...maximumLabel).contains(entry.label) else {
                throw RegistryError.damagedLedger(path: path, reason: "'\(entry.name)' has label \(entry.label), outside 1…\(maximumLabel)")
            }
            guard names.insert(entry.name).inserted, labels.insert(entry.label).inserted else {
                throw RegistryError.damagedLedger(path: path, reason: "the class '\(entry.name)' or its label \(entry.label) appears twice")
            }
        }
        return ledger
    }

    /// The file's contents (sorted keys, ordered by label, stable diffs).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Writes `labels.json` atomically (synced to disk).
    public func write(registry directory: String) throws {
        try DurableFile.writeAtomically(try encoded(), to: (directory as NSString).appendingPathComponent(Self.fileName))
    }

    /// Label ids for `classes` (distinct names), recording new assignments in the ledger and
    /// marking present classes as registered again. Returns name → id.
    ///
    /// - Throws: ``RegistryError/noFreeLabel(className:)`` when every id is taken by a
    ///   present class.
    @discardableResult
    public mutating func assign(_ classes: [(name: String, preferred: Int?)], date: String = LabelLedger.now()) throws -> [String: Int] {
        var result: [String: Int] = [:]
        for (name, _) in classes {
            if let index = entries.firstIndex(where: { $0.name == name }) {
                result[name] = entries[index].label
                entries[index].retired = nil
            }
        }
        let newcomers = classes.filter { result[$0.name] == nil }.sorted { $0.name < $1.name }
        var reserved = Set(entries.map(\.label))
        // Preferred ids first, so that a class does not lose its preferred id to a newcomer
        // that sorts before it.
        for (name, preferred) in newcomers {
            if let preferred, (1...Self.maximumLabel).contains(preferred), !reserved.contains(preferred) {
                result[name] = preferred
                reserved.insert(preferred)
                entries.append(Entry(name: name, label: preferred, assigned: date))
            }
        }
        for (name, _) in newcomers where result[name] == nil {
            if let free = (1...Self.maximumLabel).first(where: { !reserved.contains($0) }) {
                result[name] = free
                reserved.insert(free)
                entries.append(Entry(name: name, label: free, assigned: date))
                continue
            }
            // Every id was used once: recycle the id retired longest ago.
            let inUse = Set(result.values)
            guard let index = entries.indices.filter({ entries[$0].retired != nil && !inUse.contains(entries[$0].label) })
                .min(by: { entries[$0].retired! < entries[$1].retired! }) else {
                throw RegistryError.noFreeLabel(className: name)
            }
            let label = entries[index].label
            entries[index] = Entry(name: name, label: label, assigned: date)
            result[name] = label
        }
        entries.sort { $0.label < $1.label }
        return result
    }

    /// Marks every class not in `present` as retired (its id stays reserved).
    public mutating func retire(except present: Set<String>, date: String = LabelLedger.now()) {
        for index in entries.indices where !present.contains(entries[index].name) && entries[index].retired == nil {
            entries[index].retired = date
        }
    }

    /// The current time in ISO 8601.
    public static func now() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}
