/// Why a class bundle cannot be used. Every case names the bundle directory and says what
/// to do; a registry reports these per bundle and keeps serving the healthy ones.
public enum BundleError: Error, Equatable, CustomStringConvertible {
    case missingFile(bundle: String, file: String)
    case badManifest(bundle: String, detail: String)
    case unsupportedSchema(bundle: String, version: Int, supported: [Int])
    case unsafePath(bundle: String, path: String)
    case hashMismatch(bundle: String, file: String, expected: String, actual: String)
    case incompatibleBackbone(bundle: String, detail: String)
    case badLocalizer(bundle: String, detail: String)
    case badCorpus(bundle: String, detail: String)
    /// The bundle is fine but every label id 1…254 is taken by other classes.
    case noFreeLabel(bundle: String, className: String)

    public var bundle: String {
        switch self {
        case .missingFile(let b, _), .badManifest(let b, _), .unsupportedSchema(let b, _, _),
             .unsafePath(let b, _), .hashMismatch(let b, _, _, _), .incompatibleBackbone(let b, _),
             .badLocalizer(let b, _), .badCorpus(let b, _), .noFreeLabel(let b, _):
            return b
        }
    }

    public var description: String {
        switch self {
        case .missingFile(let bundle, let file):
            return "Bundle '\(bundle)' has no \(file). Copy the complete bundle directory, or retrain it with `divseg-registry train`."
        case .badManifest(let bundle, let detail):
            return "Bundle '\(bundle)': manifest.json is invalid (\(detail)). Fix the file or retrain the bundle."
        case .unsupportedSchema(let bundle, let version, let supported):
            return "Bundle '\(bundle)' uses manifest schema version \(version); this divseg reads \(supported.map(String.init).joined(separator: ", ")). Upgrade divseg or retrain the bundle."
        case .unsafePath(let bundle, let path):
            return "Bundle '\(bundle)': its manifest names the file '\(path)', which is outside the bundle directory. Only plain file names inside the bundle are allowed."
        case .hashMismatch(let bundle, let file, let expected, let actual):
            return "Bundle '\(bundle)': \(file) does not match its manifest (sha256 \(actual.prefix(12))…, expected \(expected.prefix(12))…). The file is damaged or was replaced; copy the bundle again."
        case .incompatibleBackbone(let bundle, let detail):
            return "Bundle '\(bundle)' was trained on another feature extractor (\(detail)). Retrain it with the current backbone."
        case .badLocalizer(let bundle, let detail):
            return "Bundle '\(bundle)': the localizer weights cannot be used (\(detail))."
        case .badCorpus(let bundle, let detail):
            return "Bundle '\(bundle)': corpus.csv is invalid (\(detail))."
        case .noFreeLabel(let bundle, let name):
            return "Bundle '\(bundle)' cannot be served: no free label id for '\(name)' (ids 1…254 are all used by other classes). Remove classes you no longer need."
        }
    }
}
