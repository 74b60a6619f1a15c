import DivSegIO

/// Opens a localizer file of either architecture, by its `format` attribute.
///
/// ```swift
/// let localizer = try LocalizerFile.load(contentsOf: bundle.localizerPath)
/// ```
public enum LocalizerFile {
    /// The localizer in `path`: an ``AveragePooledLocalizer`` when the file says so, otherwise
    /// a ``MaxPooledLocalizer`` (whose loader reports any other format as not a localizer file).
    ///
    /// - Throws: ``LocalizerError`` or ``HDF5Error`` (no such file, not HDF5, damaged).
    public static func load(contentsOf path: String,
                            featureRule: String = FeatureGrid.ruleName) throws -> any Localizer {
        let file = try HDF5File.open(path)
        let format = file.hasAttribute("format") ? try? file.stringAttribute("format") : nil
        file.close()
        if format == AveragePooledLocalizer.formatName {
            return try AveragePooledLocalizer(contentsOf: path, featureRule: featureRule)
        }
        return try MaxPooledLocalizer(contentsOf: path, featureRule: featureRule)
    }

    /// A float dataset of a localizer file, which must exist with exactly `shape`.
    ///
    /// - Throws: ``LocalizerError/malformedFile(path:detail:)`` when it is missing,
    ///   ``LocalizerError/wrongShape(path:dataset:found:expected:)``, or ``HDF5Error``.
    static func readDataset(_ name: String, shape expected: [Int], from file: HDF5File, path: String) throws -> [Float] {
        guard file.contains(name) else {
            throw LocalizerError.malformedFile(path: path, detail: "the dataset '\(name)' is missing")
        }
        let shape = try file.shape(of: name)
        guard shape == expected else {
            throw LocalizerError.wrongShape(path: path, dataset: name, found: shape, expected: expected)
        }
        let values = try file.readFloats(name).values
        // Non-finite weights would turn every score into NaN without any error.
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw LocalizerError.malformedFile(path: path, detail: "the dataset '\(name)' holds a NaN or infinite value (\(values[index]) at index \(index))")
        }
        return values
    }
}
