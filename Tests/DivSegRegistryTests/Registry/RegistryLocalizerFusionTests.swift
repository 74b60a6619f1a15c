import DivSeg
import DivSegRegistry
import DivSegTestSupport
import Testing

/// ``Registry/localizerFusion(channels:weight:)``: the registry's localizers in a segmenter's
/// channel order, on the shipped registry.
@Suite("Registry localizers for LocalizerFusion")
struct RegistryLocalizerFusionTests {
    @Test("one entry per channel: nil for background and for a class the registry lacks, each bundle's own localizer otherwise")
    func channelOrder() throws {
        let registry = try Registry.open(SharedData.shippedRegistry, backbone: nil)
        let classes = try registry.loadSegmenter().classes
        let fusion = try registry.localizerFusion(channels: classes, weight: 3)
        #expect(fusion.weight == 3)
        #expect(fusion.localizers.count == classes.count)
        #expect(fusion.localizers[0] == nil)
        for (channel, name) in classes.enumerated().dropFirst() {
            #expect(fusion.localizers[channel]?.className == name, "channel \(channel)")
        }
        // A stale segmenter's channel whose bundle was removed gets no map.
        let reordered = try registry.localizerFusion(channels: ["background", "unicorn", classes[1]])
        #expect(reordered.localizers[1] == nil && reordered.localizers[2]?.className == classes[1])
        #expect(reordered.weight == LocalizerFusion.defaultWeight)
    }
}
