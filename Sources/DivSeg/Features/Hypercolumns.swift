import DivSegCore

/// The features of one image: its hypercolumns on the 64×84 grid and its global descriptor.
public struct Hypercolumns: Sendable {
    /// `[4224, 64, 84]`, channel-major: channel block per VGG-16 layer, block1_conv1 first.
    public var features: Tensor
    /// Pooled fc7 (4096) when the backbone has fc6/fc7, else block5_conv3's spatial max (512).
    public var global: [Float]

    public init(features: Tensor, global: [Float]) {
        self.features = features
        self.global = global
    }
}
