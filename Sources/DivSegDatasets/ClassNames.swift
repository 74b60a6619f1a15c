/// Class names as the method uses them: the PASCAL VOC list, and the canonicalisation that
/// maps other datasets' spellings (COCO's "airplane", "dining table", …) onto one name.
///
/// A canonical name is lower-case, an alias is replaced by its target, and the spaces
/// between words become `_`: a canonical name is also a valid class name (the class-name
/// grammar has no spaces, see the README), so COCO's multi-word categories can be trained
/// and evaluated under one name ("traffic light" → `traffic_light`, "hot dog" → `hot_dog`).
/// The same mapping is applied to dataset tags, to ground-truth category names and to the
/// names users type, so "traffic light", "Traffic  Light" and "traffic_light" are one class.
/// (No COCO, VOC or MSRC category contains `_`, so the mapping loses nothing; a bundle
/// trained on such a class keeps the dataset's spelling as an alias.)
///
/// ```swift
/// ClassNames.canonical("Airplane")          // "aeroplane"
/// ClassNames.canonical("  Dining  Table ")  // "diningtable"
/// ClassNames.canonical("Giraffe")           // "giraffe"
/// ClassNames.canonical("traffic light")     // "traffic_light"
///
/// // A bundle declaring its own aliases extends the table:
/// let names = ClassNames.standard.adding(aliases: ["camelopard": "giraffe"])
/// names.canonical("Camelopard")             // "giraffe"
/// ```
public struct ClassNames: Sendable, Equatable {
    /// The 20 PASCAL VOC foreground classes in their usual order: label id `i + 1` is
    /// `voc[i]` (label 0 is background, 255 is "ignore").
    public static let voc: [String] = [
        "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
        "train", "tvmonitor",
    ]

    /// COCO spellings of VOC classes → the VOC name. The other 14 VOC classes use the same
    /// word in COCO.
    public static let cocoAliases: [String: String] = [
        "airplane": "aeroplane",
        "motorcycle": "motorbike",
        "couch": "sofa",
        "dining table": "diningtable",
        "potted plant": "pottedplant",
        "tv": "tvmonitor",
    ]

    /// The table used by default everywhere: ``cocoAliases``.
    public static let standard = ClassNames(aliases: cocoAliases)

    /// Alias → canonical target. Keys and values are stored normalised (see ``normalize(_:)``).
    public private(set) var aliases: [String: String]

    /// A table with the given aliases (keys and values are normalised; targets are not
    /// resolved further, so an alias of an alias is not followed).
    ///
    /// ```swift
    /// let names = ClassNames(aliases: ["tv": "tvmonitor", "monitor": "tvmonitor"])
    /// ```
    public init(aliases: [String: String] = [:]) {
        var table: [String: String] = [:]
        for (alias, target) in aliases { table[Self.normalize(alias)] = Self.normalize(target) }
        self.aliases = table
    }

    /// This table plus `more` aliases; an alias already present is replaced by the new target.
    ///
    /// ```swift
    /// let names = ClassNames.standard.adding(aliases: ["plane": "aeroplane"])
    /// ```
    public func adding(aliases more: [String: String]) -> ClassNames {
        var copy = self
        for (alias, target) in more { copy.aliases[Self.normalize(alias)] = Self.normalize(target) }
        return copy
    }

    /// The canonical form of `name` under this table: trimmed, lower-cased, inner runs of
    /// white space collapsed, replaced by its alias target if it has one (an alias may be
    /// written with `_` for its spaces), and the remaining spaces turned into `_`.
    ///
    /// ```swift
    /// ClassNames.standard.canonical("TV")              // "tvmonitor"
    /// ClassNames.standard.canonical("dining_table")    // "diningtable"
    /// ClassNames.standard.canonical("Teddy Bear")      // "teddy_bear"
    /// ```
    public func canonical(_ name: String) -> String {
        let key = Self.normalize(name)
        let target = aliases[key] ?? aliases[Self.spelled(key)] ?? key
        return Self.joined(target)
    }

    /// A canonical name with `_` turned back into spaces: the dataset spelling of a COCO
    /// class (`traffic_light` → "traffic light"), kept as an alias by bundles.
    ///
    /// ```swift
    /// ClassNames.spelled("teddy_bear")   // "teddy bear"
    /// ```
    public static func spelled(_ name: String) -> String {
        name.split(separator: "_", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// Spaces between words become `_` (the names are already normalised).
    private static func joined(_ name: String) -> String {
        name.split(separator: " ").joined(separator: "_")
    }

    /// ``canonical(_:)`` under the ``standard`` table.
    ///
    /// ```swift
    /// ClassNames.canonical("motorcycle")   // "motorbike"
    /// ```
    public static func canonical(_ name: String) -> String {
        standard.canonical(name)
    }

    /// Lower-cases `name`, trims white space at both ends and collapses inner runs of white
    /// space to a single space; no alias is applied.
    ///
    /// ```swift
    /// ClassNames.normalize(" Teddy   Bear ")   // "teddy bear"
    /// ```
    public static func normalize(_ name: String) -> String {
        name.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// What is wrong with a list of foreground classes that is to be labelled 1…n in byte
    /// label maps (empty, over 254 classes, "background" listed, a duplicate), or nil.
    public static func foregroundListProblem(_ classes: [String]) -> String? {
        if classes.isEmpty { return "the list is empty" }
        if classes.count > 254 { return "\(classes.count) classes, at most 254 fit byte labels" }
        if classes.contains("background") { return "\"background\" is listed as a foreground class" }
        var seen = Set<String>()
        for name in classes where !seen.insert(name).inserted { return "\"\(name)\" appears twice" }
        return nil
    }
}
