/// The geometry of the hypercolumn features (TheMethod.md): every image is resized to
/// 256×336 and described on a 64×84 grid of 4224-channel hypercolumns.
public enum FeatureGrid {
    /// Network input height and width.
    public static let inputHeight = 256
    public static let inputWidth = 336
    /// Feature grid height and width (1/4 of the input).
    public static let height = 64
    public static let width = 84
    /// Grid locations per image.
    public static let locations = height * width
    /// Hypercolumn channels: the 13 VGG-16 conv layers' channels, concatenated.
    public static let channels = VGG16.channels.reduce(0, +)
    /// A name for this construction rule, recorded with stored features and bundles so that
    /// features built by another rule are never mixed with these.
    public static let ruleName = "vgg16-hypercolumn-4224@64x84-from-256x336"
}
