/// Why a backbone weights file could not be used. Each case names the file.
public enum BackboneError: Error, Equatable, CustomStringConvertible {
    /// The HDF5 file lacks the Keras `layer_names` attribute (at its root or under
    /// `model_weights`): it is not a Keras weights file.
    case notKerasWeights(path: String)
    /// A layer VGG-16 needs is missing from the file.
    case missingLayer(path: String, layer: String)
    /// The file is a Keras weights file, but not of VGG-16 (wrong shapes or layer count).
    case incompatible(path: String, detail: String)

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
        }
    }
}
