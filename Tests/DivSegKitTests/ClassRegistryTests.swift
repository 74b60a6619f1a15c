import DivSegKit
import DivSegTestSupport
import Foundation
import Testing

/// The façade: one import, a backbone loaded once, a registry that wires label ids and
/// cannot be called into a trap.
@Suite("Façade: Backbone and ClassRegistry")
struct ClassRegistryTests {
    static let backbone = Result { try Backbone.load(weightsAt: SharedData.weights) }

    /// A copy of the shipped registry in a fresh folder (its hidden sample store left out).
    static func copyOfShippedRegistry() throws -> String {
        let dir = try CLIRunner.temporaryDirectory().path + "/classes"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for entry in try FileManager.default.contentsOfDirectory(atPath: SharedData.shippedRegistry) where !entry.hasPrefix(".") {
            try FileManager.default.copyItem(atPath: SharedData.shippedRegistry + "/" + entry, toPath: dir + "/" + entry)
        }
        return dir
    }

    @Test("segment(imageAt:) gives what the hand-wired pipeline gives, in registry label ids")
    func segmentMatchesTheLayers() throws {
        let backbone = try Self.backbone.get()
        let unusedCache = try CLIRunner.temporaryDirectory().path + "/features"
        let registry = backbone.registry(at: SharedData.shippedRegistry, featureCache: unusedCache)
        let image = SharedData.cocoMiniImage("000000000025")   // giraffes, held out of the corpus
        let result = try registry.segment(imageAt: image)
        // Segmenting needs no feature cache, and creates no folder for one.
        #expect(!FileManager.default.fileExists(atPath: unusedCache))

        // The eight calls the façade replaces.
        let snapshot = try Registry.open(SharedData.shippedRegistry,
                                         backbone: try BackboneIdentity.vgg16(weightsAt: SharedData.weights))
        let snapshotSegmenter = try snapshot.loadSegmenter()
        var pipeline = SegmentationPipeline(extractor: try HypercolumnExtractor(weightsAt: SharedData.weights),
                                            segmenter: snapshotSegmenter, channelLabels: snapshot.channelLabels,
                                            crf: .segmenterDefault)
        pipeline.localizerFusion = try snapshot.localizerFusion(channels: snapshotSegmenter.classes)
        let expected = try pipeline.segment(try ImageDecoder.decodeRGB(contentsOf: image))
        #expect(result.labels == expected)
        #expect(backbone.identity == (try BackboneIdentity.vgg16(weightsAt: SharedData.weights)))

        // Label ids, not channel numbers: giraffe keeps its registry id.
        let giraffe = try #require(snapshot.labels["giraffe"])
        #expect(result.names[UInt8(giraffe)] == "giraffe")
        let areas = result.areas
        #expect(areas.contains { $0.name == "giraffe" && $0.fraction > 0.05 })
        #expect(abs(areas.map(\.fraction).reduce(0, +) - 1) < 1e-9)
        #expect(areas.allSatisfy { $0.fraction > 0 })
        #expect(zip(areas, areas.dropFirst()).allSatisfy { $0.fraction >= $1.fraction })
        let overlay = result.overlay()
        #expect(overlay.width == result.image.width && overlay.height == result.image.height && overlay.channels == 3)
        // The legend is drawn over the plain overlay: the images differ, the size does not.
        let legended = result.overlayWithLegend()
        #expect(legended.width == overlay.width && legended.height == overlay.height)
        let outlined = Overlay.render(image: result.image, labels: result.labels, palette: result.palette,
                                      outline: Overlay.outlineWidth(width: overlay.width, height: overlay.height))
        #expect(legended.pixels != outlined.pixels)

        // Exports: the mask is the label's pixels, the probability image is 8-bit, RLE round-trips the area.
        let label = UInt8(giraffe)
        let mask = result.maskImage(label: label)
        let giraffePixels = result.labels.labels.filter { $0 == label }.count
        #expect(mask.pixels.filter { $0 == 255 }.count == giraffePixels && mask.pixels.allSatisfy { $0 == 0 || $0 == 255 })
        let probability = try #require(result.probabilityImage(label: label))
        #expect(probability.width == result.image.width && probability.channels == 1)
        let rle = result.runLength(label: label)
        #expect(rle.size == [result.image.height, result.image.width] && !rle.counts.isEmpty)

        // The CRF is the façade's default; without it, the rules' argmax alone.
        pipeline.crf = nil
        let withoutCRF = try registry.segment(imageAt: image, crf: nil)
        #expect(withoutCRF.labels == (try pipeline.segment(try ImageDecoder.decodeRGB(contentsOf: image))))
        #expect(withoutCRF.labels != result.labels)

        // A segmenter loaded once gives the same labels for the same image.
        let segmenter = try registry.segmenter()
        #expect(segmenter.staleWarning == nil && segmenter.classNames.contains("giraffe"))
        #expect(try segmenter.segment(imageAt: image).labels == result.labels)
    }

    @Test("a change without retraining makes the segmenter stale, and retraining is never a trap")
    func changesThroughTheFacade() throws {
        let backbone = try Self.backbone.get()
        let directory = try Self.copyOfShippedRegistry()
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        let registry = backbone.registry(at: directory, featureCache: try CLIRunner.temporaryDirectory().path)
        let before = try registry.snapshot()
        #expect(before.bundles.contains { $0.name == "zebra" } == false)

        let removed = try registry.remove("elephant", retrain: false)
        #expect(removed.registry.bundles.contains { $0.name == "elephant" } == false)
        #expect(throws: RegistryError.staleSegmenter(directory)) { try registry.pipeline() }
        #expect(throws: RegistryError.staleSegmenter(directory)) { try registry.segmenter() }
        // Allowed on purpose, it segments with a warning that names the removed class.
        let allowed = try registry.segmenter(allowStale: true)
        #expect(allowed.staleWarning?.contains("elephant") == true && !allowed.classNames.contains("elephant"))
        // Used as it is, the stale segmenter keeps elephant's reserved id for its channel.
        let stale = try registry.snapshot().loadStaleSegmenter()
        #expect(stale.removed == ["elephant"] && stale.notPredicted.isEmpty && !stale.isCurrent)
        #expect(stale.channelLabels.count == stale.segmenter.classes.count)
        #expect(stale.channelLabels.contains(UInt8(try #require(before.labels["elephant"]))))

        // Put it back from the shipped copy: same label id, and the segmenter fits again.
        let readded = try registry.add(bundleAt: SharedData.shippedRegistry + "/elephant", retrain: false)
        #expect(readded.label == before.labels["elephant"])
        #expect(try registry.snapshot().labels == before.labels)
        _ = try registry.pipeline()

        // The layer below refuses a retraining it has no trainer for, before touching anything.
        let editor = RegistryEditor(directory: directory, backbone: backbone.identity)
        #expect(throws: RegistryError.noRetrainer(directory: directory)) { try editor.retrain() }
        #expect(throws: RegistryError.noRetrainer(directory: directory)) { try editor.remove("giraffe") }
        #expect(try registry.snapshot().labels == before.labels)
    }

    @Test("a missing weights file says where it looked")
    func missingWeights() throws {
        let path = try CLIRunner.temporaryDirectory().path + "/no-weights.h5"
        let error = #expect(throws: WeightsLocator.Missing.self) { try Backbone.load(weightsAt: path) }
        #expect(error?.searched == [path])
    }
}
