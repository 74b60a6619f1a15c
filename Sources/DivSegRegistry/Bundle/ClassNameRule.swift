/// The one grammar for class names and aliases of a registry. A class name becomes the
/// name of its bundle directory inside the registry folder, so it must be a plain, portable
/// file name that can never point outside the folder or collide with the registry's own
/// files (`segmenter.h5`, `labels.json`, `.lock`, `.transaction.json`, `.tmp-*`, `.old-*`):
///
/// - a **name** is 1–64 characters of `a`–`z`, `0`–`9`, `_` and `-`, starting with a letter
///   (`^[a-z][a-z0-9_-]{0,63}$`); a dot is never allowed, so no name can be a registry file;
/// - an **alias** (a dataset's spelling of the class, e.g. COCO's "dining table") follows
///   the same rule but may also contain single spaces between words;
/// - `background` (label 0) and `ignore` (label 255) are reserved for both.
///
/// Checked when a manifest is read (so a registry never serves a bundle with a bad name),
/// before `train` writes a bundle, and before `add` writes anything.
///
/// ```swift
/// ClassNameRule.problem(name: "giraffe")          // nil
/// ClassNameRule.problem(name: "../evil")          // "it contains '/' …"
/// ClassNameRule.problem(alias: "dining table")    // nil
/// ```
public enum ClassNameRule {
    /// Longest name or alias.
    public static let maximumLength = 64
    /// Names no class may have (nor use as an alias).
    public static let reserved: Set<String> = ["background", "ignore"]
    /// The rule in one line, for messages and documentation.
    public static let summary = "1–64 characters of a–z, 0–9, '_' and '-', starting with a letter; 'background' and 'ignore' are reserved"

    /// What is wrong with `name` as a class name, or nil when it is valid.
    public static func problem(name: String) -> String? {
        check(name, spaces: false)
    }

    /// What is wrong with `alias` as an alias, or nil when it is valid.
    public static func problem(alias: String) -> String? {
        check(alias, spaces: true)
    }

    /// A valid name close to `raw` (lower-cased, other characters replaced by '_'), for
    /// suggestions in messages; nil when none can be made.
    public static func suggestion(for raw: String) -> String? {
        var scalars = raw.lowercased().unicodeScalars.map { isNameCharacter($0) ? Character($0) : "_" }
        while let first = scalars.first, !(first >= "a" && first <= "z") { scalars.removeFirst() }
        let candidate = String(scalars.prefix(maximumLength))
        return problem(name: candidate) == nil ? candidate : nil
    }

    private static func isNameCharacter(_ s: Unicode.Scalar) -> Bool {
        (s >= "a" && s <= "z") || (s >= "0" && s <= "9") || s == "_" || s == "-"
    }

    private static func check(_ text: String, spaces: Bool) -> String? {
        if text.isEmpty { return "it is empty" }
        let scalars = Array(text.unicodeScalars)
        if scalars.count > maximumLength { return "it has \(scalars.count) characters, at most \(maximumLength) are allowed" }
        guard let first = scalars.first, first >= "a" && first <= "z" else {
            return "it must start with a lower-case letter a–z"
        }
        for (index, s) in scalars.enumerated() where !isNameCharacter(s) {
            if spaces, s == " ", index + 1 < scalars.count, scalars[index + 1] != " " { continue }
            let shown = s == " " ? "a space" : "'\(s.escaped(asASCII: true))'"
            return "it contains \(shown); only a–z, 0–9, '_' and '-'\(spaces ? " (and single spaces between words)" : "") are allowed"
        }
        if reserved.contains(text) { return "'\(text)' is reserved" }
        return nil
    }
}
