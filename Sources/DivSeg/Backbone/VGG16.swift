import DivSegCore
import DivSegIO

/// The 13 convolution layers of ImageNet VGG-16 (frozen), plus fc6/fc7 when the weights
/// file has them.
///
/// ```swift
/// let vgg = try VGG16(contentsOf: "../shared/models/vgg16_imagenet_notop.h5")
/// let input = VGG16.preprocess(image)          // Image at 256×336 → [3, 256, 336], BGR − mean
/// let maps = vgg.convolutionMaps(input)        // 13 post-ReLU maps, block1_conv1 first
/// ```
public struct VGG16: Sendable {
    /// Layer names in forward order.
    public static let layerNames = [
        "block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
        "block3_conv1", "block3_conv2", "block3_conv3",
        "block4_conv1", "block4_conv2", "block4_conv3",
        "block5_conv1", "block5_conv2", "block5_conv3",
    ]
    /// Output channels of each convolution layer.
    public static let channels = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    /// Indices of the layers followed by 2×2 max pooling (the last of each block).
    public static let poolAfter: Set<Int> = [1, 3, 6, 9, 12]
    /// The Caffe ImageNet mean in B, G, R order, subtracted from 0–255 pixel values.
    public static let meanBGR: [Float] = [103.939, 116.779, 123.68]

    /// The 13 convolution layers in forward order.
    public let layers: [Conv3x3]
    /// fc6/fc7 when the file has them (`fc1`/`fc2` in Keras), else nil.
    public let head: FullyConnectedHead?
    /// The engine that runs ``convolutionMaps(_:)``.
    public let engine: ConvolutionEngine
    private let stack: ConvolutionStack?

    /// Assembles the network from already-built layers (13 convolutions).
    public init(layers: [Conv3x3], head: FullyConnectedHead? = nil, engine: ConvolutionEngine = .default) {
        precondition(layers.count == 13, "VGG-16 has 13 convolution layers, got \(layers.count)")
        self.layers = layers
        self.head = head
        // Pooling follows the last layer of each block, so it comes before the next one.
        let stack = engine == .oneDNN
            ? try? ConvolutionStack(layers: layers, poolBefore: Set(VGG16.poolAfter.map { $0 + 1 }.filter { $0 < 13 }))
            : nil
        self.stack = stack
        self.engine = stack == nil ? .builtin : .oneDNN
    }

    /// Loads Keras VGG-16 weights (the "notop" file or the full model with fc1/fc2).
    /// `inputSize` only tunes the choice of convolution algorithm per layer; any input size
    /// gives correct results.
    public init(contentsOf path: String,
                inputSize: (height: Int, width: Int) = (FeatureGrid.inputHeight, FeatureGrid.inputWidth),
                engine: ConvolutionEngine = .default) throws {
        let keras = try KerasWeights(contentsOf: path)
        try Self.checkConvolutionShapes(keras.layers.mapValues { $0.map(\.shape) }, path: path)
        var layers: [Conv3x3] = []
        var inChannels = 3
        var (height, width) = inputSize
        for (index, (name, outChannels)) in zip(VGG16.layerNames, VGG16.channels).enumerated() {
            if index > 0 && VGG16.poolAfter.contains(index - 1) { (height, width) = (height / 2, width / 2) }
            let (kernel, bias) = (keras.layers[name]![0].values, keras.layers[name]![1].values)
            let algorithm = Conv3x3.Algorithm.preferred(inChannels: inChannels, height: height, width: width)
            layers.append(Conv3x3(kernelHWIO: kernel, bias: bias, inChannels: inChannels,
                                  outChannels: outChannels, algorithm: algorithm))
            inChannels = outChannels
        }
        var head: FullyConnectedHead?
        if let fc1 = keras.layers["fc1"], let fc2 = keras.layers["fc2"], fc1.count == 2, fc2.count == 2 {
            do {
                head = try FullyConnectedHead(fc6Kernel: fc1[0].values, fc6Shape: fc1[0].shape,
                                              fc6Bias: fc1[1].values, fc7Kernel: fc2[0].values,
                                              fc7Shape: fc2[0].shape, fc7Bias: fc2[1].values)
            } catch {
                throw BackboneError.incompatible(path: path, detail: error.detail)
            }
        }
        self.init(layers: layers, head: head, engine: engine)
    }

    /// Checks, from the file's metadata alone (milliseconds, no values read), that `path` is
    /// a Keras file of VGG-16's 13 convolution layers with their shapes — so that a wrong
    /// `--weights` is named as such instead of surfacing later as "every bundle was trained
    /// on another feature extractor".
    ///
    /// - Throws: HDF5 errors for a file that is not HDF5, ``BackboneError`` otherwise.
    public static func checkWeightsFile(_ path: String) throws {
        try checkConvolutionShapes(KerasWeights.shapes(ofFileAt: path), path: path)
    }

    /// Every convolution layer present with kernel `[3, 3, in, out]` and bias `[out]`.
    static func checkConvolutionShapes(_ shapes: [String: [[Int]]], path: String) throws {
        var inChannels = 3
        for (name, outChannels) in zip(VGG16.layerNames, VGG16.channels) {
            guard let arrays = shapes[name], arrays.count == 2 else {
                throw BackboneError.missingLayer(path: path, layer: name)
            }
            guard arrays[0] == [3, 3, inChannels, outChannels], arrays[1] == [outChannels] else {
                throw BackboneError.incompatible(
                    path: path, detail: "\(name) has kernel \(arrays[0]) and bias \(arrays[1]), expected "
                        + "[3, 3, \(inChannels), \(outChannels)] and [\(outChannels)]")
            }
            inChannels = outChannels
        }
    }

    /// Converts an RGB image to the network's input: `[3, H, W]`, B, G, R planes, 0–255
    /// minus ``meanBGR`` (Keras "caffe" preprocessing). Gray images are replicated.
    public static func preprocess(_ image: Image) -> Tensor {
        precondition(image.channels == 3 || image.channels == 1, "expects gray or RGB, got \(image.channels) channels")
        let plane = image.width * image.height
        return Tensor(shape: [3, image.height, image.width]) { out in
            image.pixels.withUnsafeBufferPointer { px in
                let stride = image.channels
                for bgr in 0..<3 {
                    // Output plane 0 is blue: source channel 2 of RGB.
                    let source = stride == 3 ? 2 - bgr : 0
                    let mean = meanBGR[bgr]
                    let o = out.baseAddress! + bgr * plane
                    for i in 0..<plane { o[i] = Float(px[i * stride + source]) - mean }
                }
            }
        }
    }

    /// The 13 post-ReLU convolution outputs for a preprocessed `[3, H, W]` input, each at its
    /// own resolution (H, H/2, H/4, H/8, H/16 per block).
    public func convolutionMaps(_ input: Tensor) -> [Tensor] {
        // A oneDNN failure mid-run (memory) falls back to the built-in layers: same maps, slower.
        if let stack, let maps = try? stack.forward(input) { return maps }
        var maps: [Tensor] = []
        maps.reserveCapacity(13)
        var x = input
        for (i, layer) in layers.enumerated() {
            if i > 0 && VGG16.poolAfter.contains(i - 1) { x = Pooling.max(x, factor: 2) }
            x = layer(x, relu: true)
            maps.append(x)
        }
        return maps
    }

    /// The global descriptor from the last convolution map: pooled fc7 when the weights have
    /// fc6/fc7, otherwise the per-channel spatial maximum of block5_conv3 (512 values).
    public func globalDescriptor(block5Conv3 map: Tensor) -> [Float] {
        if let head { return head(Pooling.max(map, factor: 2)) }
        let c = map.shape[0], plane = map.shape[1] * map.shape[2]
        return map.scalars.withUnsafeBufferPointer { values in
            (0..<c).map { ch in
                var best = -Float.infinity
                for i in (ch * plane)..<((ch + 1) * plane) { best = max(best, values[i]) }
                return best
            }
        }
    }
}
