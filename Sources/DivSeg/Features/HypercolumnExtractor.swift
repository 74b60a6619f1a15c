import DivSegCore
import DivSegIO

/// Computes hypercolumn features (TheMethod.md) with a VGG-16 backbone.
///
/// Each of the 13 post-ReLU maps is brought to the 64×84 grid — block1 by 4×4 average
/// pooling, block2 by 2×2 average pooling, block3 as is, block4/block5 by bilinear ×2/×4
/// upsampling with half-pixel centres — and the maps are concatenated (4224 channels).
///
/// ```swift
/// let extractor = try HypercolumnExtractor(weightsAt: "vgg16_imagenet_notop.h5")
/// let image = try ImageDecoder.decodeRGB(contentsOf: "giraffe.jpg")
/// let h = extractor.extract(from: image)     // h.features: [4224, 64, 84]
/// ```
public struct HypercolumnExtractor: Sendable {
    public let backbone: VGG16

    public init(backbone: VGG16) { self.backbone = backbone }

    /// Loads the backbone from a Keras VGG-16 weights file.
    public init(weightsAt path: String) throws {
        self.init(backbone: try VGG16(contentsOf: path))
    }

    /// Resizes `image` to 256×336 (bilinear, antialiased when shrinking; an image already that
    /// size is used as is) and computes its features.
    public func extract(from image: Image) -> Hypercolumns {
        extract(preprocessed: HypercolumnExtractor.networkInput(for: image))
    }

    /// The preprocessed, resized `[3, 256, 336]` network input for an image.
    public static func networkInput(for image: Image) -> Tensor {
        Resampler.resize(VGG16.preprocess(image), height: FeatureGrid.inputHeight,
                         width: FeatureGrid.inputWidth)
    }

    /// Features of an already preprocessed `[3, 256, 336]` input.
    public func extract(preprocessed input: Tensor) -> Hypercolumns {
        precondition(input.shape == [3, FeatureGrid.inputHeight, FeatureGrid.inputWidth],
                     "network input must be [3, \(FeatureGrid.inputHeight), \(FeatureGrid.inputWidth)], got \(input.shape)")
        let maps = backbone.convolutionMaps(input)
        return Hypercolumns(features: HypercolumnExtractor.assemble(maps),
                            global: backbone.globalDescriptor(block5Conv3: maps[12]))
    }

    /// Features in the compact per-group form (the cache format for training).
    public func extractCompact(from image: Image) -> CompactHypercolumns {
        let maps = backbone.convolutionMaps(HypercolumnExtractor.networkInput(for: image))
        return CompactHypercolumns(maps: maps, global: backbone.globalDescriptor(block5Conv3: maps[12]))
    }

    /// Concatenates the 13 maps on the 64×84 grid.
    public static func assemble(_ maps: [Tensor]) -> Tensor {
        precondition(maps.count == 13, "expected 13 maps, got \(maps.count)")
        let gh = FeatureGrid.height, gw = FeatureGrid.width, plane = gh * gw
        return Tensor(shape: [FeatureGrid.channels, gh, gw]) { out in
            var channel = 0
            for map in maps {
                // Each map is pooled or resized straight into its channel block.
                let dst = out.baseAddress! + channel * plane
                let h = map.shape[1]
                if h > gh {
                    Pooling.average(map, factor: h / gh, into: dst)
                } else if h < gh {
                    Resampler.resize(map, height: gh, width: gw, into: dst)
                } else {
                    map.scalars.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: $0.count) }
                }
                channel += map.shape[0]
            }
        }
    }
}
