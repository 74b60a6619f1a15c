import ArgumentParser
import DivSeg

/// Options shared by every command that runs the backbone.
struct BackboneOptions: ParsableArguments {
    @Option(name: .long, help: "VGG-16 weights (Keras HDF5). Default: $DIVSEG_WEIGHTS, models/ or ../shared/models/vgg16_imagenet_notop.h5.")
    var weights: String?

    func resolvedWeightsPath() throws -> String {
        try WeightsLocator.resolve(weights)
    }
}
