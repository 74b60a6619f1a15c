import DivSegCore
import DivSegIO

/// The weights of a Keras HDF5 file, read by following its `layer_names` and
/// `weight_names` attributes rather than assuming dataset paths, so that files written by
/// different Keras versions (and the weight-only or full-model layouts) all load.
///
/// ```swift
/// let keras = try KerasWeights(contentsOf: "vgg16_imagenet_notop.h5")
/// let kernel = keras.layers["block1_conv1"]![0]   // (values, shape [3, 3, 3, 64])
/// ```
public struct KerasWeights: Sendable {
    /// One stored array: values in row-major order and the shape.
    public typealias Array = (values: [Float], shape: [Int])

    /// Layer names in file order (as `layer_names` lists them).
    public let layerNames: [String]
    /// Each layer's arrays in `weight_names` order (kernel, then bias for conv/dense).
    public let layers: [String: [Array]]
    /// Path of the file, for messages.
    public let path: String

    /// Reads every layer's arrays.
    public init(contentsOf path: String) throws {
        let file = try HDF5File.open(path)
        defer { file.close() }
        let root = try Self.root(of: file, path: path)
        let names = try file.stringArrayAttribute("layer_names", of: root.isEmpty ? "/" : root)
        var layers: [String: [Array]] = [:]
        for name in names {
            let group = root + name
            guard file.contains(group), file.hasAttribute("weight_names", of: group) else {
                layers[name] = []
                continue
            }
            let weightNames = try file.stringArrayAttribute("weight_names", of: group)
            layers[name] = try weightNames.map { weightName in
                let array = try file.readFloats(group + "/" + weightName)
                if let index = FiniteCheck.firstNonFinite(array.values) {
                    throw BackboneError.nonFiniteWeight(path: path, layer: name, array: weightName, index: index)
                }
                return array
            }
        }
        self.layerNames = names
        self.layers = layers
        self.path = path
    }

    /// The shapes of each layer's arrays, read from the file's metadata only (no values):
    /// a cheap check that a file is the network it should be before hashing or loading it.
    ///
    /// ```swift
    /// let shapes = try KerasWeights.shapes(ofFileAt: "vgg16_imagenet_notop.h5")
    /// print(shapes["block1_conv1"]!)   // [[3, 3, 3, 64], [64]]
    /// ```
    public static func shapes(ofFileAt path: String) throws -> [String: [[Int]]] {
        let file = try HDF5File.open(path)
        defer { file.close() }
        let root = try root(of: file, path: path)
        var shapes: [String: [[Int]]] = [:]
        for name in try file.stringArrayAttribute("layer_names", of: root.isEmpty ? "/" : root) {
            let group = root + name
            guard file.contains(group), file.hasAttribute("weight_names", of: group) else {
                shapes[name] = []
                continue
            }
            shapes[name] = try file.stringArrayAttribute("weight_names", of: group).map {
                try file.shape(of: group + "/" + $0)
            }
        }
        return shapes
    }

    /// Where the layers are: full-model saves keep the weights under "model_weights",
    /// weight-only saves at the root.
    private static func root(of file: HDF5File, path: String) throws -> String {
        if file.hasAttribute("layer_names") { return "" }
        if file.contains("model_weights"), file.hasAttribute("layer_names", of: "model_weights") { return "model_weights/" }
        throw BackboneError.notKerasWeights(path: path)
    }
}
