import DivSegIO

/// The header every divseg model file (localizer, segmenter) carries: required attributes, a
/// `format` name and the `feature_rule` its weights assume. Shared so that both files are
/// checked the same way; each model maps the problem to its own typed error.
enum ModelFileHeader {
    enum Problem: Error {
        /// Not a file of this kind (missing attribute, other format).
        case malformed(String)
        /// Trained on features built by another rule.
        case featureRule(found: String)
    }

    /// Checks `file`'s header; `kind` names the model in messages ("localizer").
    static func check(_ file: HDF5File, kind: String, format expectedFormat: String,
                      required: [String], featureRule expectedRule: String) throws -> Problem? {
        for attribute in ["format", "feature_rule"] + required where !file.hasAttribute(attribute) {
            return .malformed("it has no '\(attribute)' attribute, so it is not a divseg \(kind) file")
        }
        let format = try file.stringAttribute("format")
        guard format == expectedFormat else {
            return .malformed("its format is '\(format)', expected '\(expectedFormat)'")
        }
        let rule = try file.stringAttribute("feature_rule")
        return rule == expectedRule ? nil : .featureRule(found: rule)
    }
}
