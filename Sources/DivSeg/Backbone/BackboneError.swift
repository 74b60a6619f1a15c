/// Why a backbone weights file could not be used. Each case names the file.
public enum BackboneError: Error, Equatable, CustomStringConvertible {
    /// The HDF5 file lacks the Keras `layer_names` attribute (at its root or under
    /// `model_weights`): it is not a Keras weights file.
    case notKerasWeights(path: String)
    /// A layer VGG-16 needs is missing from the file.
    case missingLayer(path: String, layer: String)
    /// The file is a Keras weights file, but not of VGG-16 (wrong shapes or layer count).
    case incompatible(path: String, detail: String)
    /// An array of the file holds a NaN or infinite value (a damaged or tampered file):
    /// every feature computed from it would be wrong.
    case nonFiniteWeight(path: String, layer: String, array: String, index: Int)

    public var description: String {
        switch self {
        case .notKerasWeights(let path):
            return "'\(path)' is an HDF5 file but not a Keras weights file (no 'layer_names' "
                + "attribute). Use the Keras VGG-16 weights, e.g. vgg16_imagenet_notop.h5."
        case .missingLayer(let path, let layer):
            return "The weights file '\(path)' has no layer '\(layer)'; VGG-16 needs all 13 "
                + "convolution layers block1_conv1 … block5_conv3."
        case .incompatible(let path, let detail):
            return "The weights file '\(path)' does not hold VGG-16 weights: \(detail)."
        case let .nonFiniteWeight(path, layer, array, index):
            return "The weights file '\(path)' is damaged: layer '\(layer)', array '\(array)' holds a NaN or "
                + "infinite value at index \(index). Replace it with an intact copy of vgg16_imagenet_notop.h5."
        }
    }
}
