import DivSeg
import DivSegCore
import DivSegIO
import Testing
import DivSegMethodTestSupport

@Suite("Localizer: the exact shortcut on compact hypercolumns", .serialized)
struct LocalizerShortcutTests {
    /// F and B computed the long way: the first layer applied to every column of the full
    /// [4224, 64, 84] hypercolumn.
    static func naiveMaps(_ localizer: Localizer, _ features: CompactHypercolumns) -> (foreground: [Float], background: [Float]) {
        let full = features.expanded().reshaped([FeatureGrid.channels, FeatureGrid.locations])
        let w1 = Tensor(shape: [localizer.hiddenUnits, FeatureGrid.channels], scalars: localizer.inferenceKernel)
        var hidden = BLAS.matmul(w1, full)
        for r in 0..<localizer.hiddenUnits {
            for i in 0..<FeatureGrid.locations {
                hidden.scalars[r * FeatureGrid.locations + i] = max(0, hidden.scalars[r * FeatureGrid.locations + i] + localizer.fc1Bias[r])
            }
        }
        let out = BLAS.matmul(Tensor(shape: [2, localizer.hiddenUnits], scalars: localizer.fc2Kernel), hidden)
        let n = FeatureGrid.locations
        return (out.scalars[0..<n].map { $0 + localizer.fc2Bias[0] }, out.scalars[n...].map { $0 + localizer.fc2Bias[1] })
    }

    static func scaledRandomLocalizer(hidden: Int, seed: UInt64) -> Localizer {
        var rng = SplitMix64(seed: seed)
        let scale = (0..<FeatureGrid.channels).map { _ in rng.nextFloat(in: 0.001...0.01) }
        var localizer = Localizer(randomWithHiddenUnits: hidden, className: "giraffe", inputScale: scale, seed: seed)
        // Non-zero biases, so that they are tested too.
        localizer = try! Localizer(className: "giraffe", fc1Kernel: localizer.fc1Kernel,
                                   fc1Bias: rng.floats(hidden, in: -0.5...0.5), fc2Kernel: localizer.fc2Kernel,
                                   fc2Bias: [0.3, -0.2], inputScale: scale)
        return localizer
    }

    @Test("shortcut maps equal the maps from the full hypercolumn", arguments: [64, 1024])
    func shortcutMatchesNaive(hidden: Int) throws {
        let fixture = try LocalizerFixture.giraffe.get()
        let features = try fixture.features(fixture.positives[0])
        let localizer = Self.scaledRandomLocalizer(hidden: hidden, seed: UInt64(hidden))
        let (f, b) = localizer.maps(features)
        let (nf, nb) = Self.naiveMaps(localizer, features)
        #expect(f.count == 5376 && b.count == 5376)
        let errors = (LocalizerFixture.relativeError(f, nf), LocalizerFixture.relativeError(b, nb))
        #expect(errors.0 < 1e-4 && errors.1 < 1e-4, "relative errors F \(errors.0), B \(errors.1)")
        // Not a trivially constant map.
        #expect(Set(f).count > 1000)
    }

    @Test("a location's hypercolumn from the compact groups is exactly the expanded column")
    func locationVectorIsExact() throws {
        let fixture = try LocalizerFixture.giraffe.get()
        let features = try fixture.features(fixture.negatives[1])
        let full = features.expanded()
        let cells = [(0, 0), (0, 83), (63, 0), (63, 83), (1, 1), (2, 5), (31, 41), (32, 42), (17, 60), (62, 82)]
        for (r, c) in cells {
            let vector = HypercolumnLocator.vector(row: r, column: c, of: features)
            let column = (0..<FeatureGrid.channels).map { full.scalars[$0 * FeatureGrid.locations + r * FeatureGrid.width + c] }
            #expect(vector == column, "cell (\(r), \(c))")
            #expect(HypercolumnLocator.vector(at: r * FeatureGrid.width + c, of: features) == vector)
        }
    }

    @Test("score divides F by scoreScale; alternatives use their own scales; the border margin is flattened")
    func scores() throws {
        let features = LocalizerFixture.randomFeatures(seed: 3)
        let base = Localizer(randomWithHiddenUnits: 8, className: "x", seed: 4)
        let localizer = try Localizer(className: "x", fc1Kernel: base.fc1Kernel, fc1Bias: base.fc1Bias,
                                      fc2Kernel: base.fc2Kernel, fc2Bias: base.fc2Bias, inputScale: base.inputScale,
                                      scoreScale: 2, differenceScale: 4, backgroundScale: 8)
        let (f, b) = localizer.maps(features)
        #expect(localizer.score(features) == f.map { $0 / 2 })
        #expect(localizer.score(foreground: f, background: b, kind: .foregroundMinusBackground) == zip(f, b).map { ($0 - $1) / 4 })
        #expect(localizer.score(foreground: f, background: b, kind: .negativeBackground) == b.map { -$0 / 8 })
        let p = localizer.score(foreground: f, background: b, kind: .probability)
        #expect(p.allSatisfy { $0 > 0 && $0 < 1 })

        let margined = try Localizer(className: "x", fc1Kernel: base.fc1Kernel, fc1Bias: base.fc1Bias,
                                     fc2Kernel: base.fc2Kernel, fc2Bias: base.fc2Bias, inputScale: base.inputScale,
                                     borderMargin: 2)
        let s = margined.score(foreground: f, background: b)
        let interior = (2..<62).flatMap { r in (2..<82).map { r * 84 + $0 } }
        let floor = interior.map { f[$0] }.min()!
        #expect(s[0] == floor && s[84 * 64 - 1] == floor && s[84 + 40] == floor)
        #expect(interior.allSatisfy { s[$0] == f[$0] })
    }

    @Test("parameters of the wrong size are refused with a message")
    func invalidParameters() {
        #expect(throws: LocalizerError.self) {
            _ = try Localizer(className: "x", fc1Kernel: [1, 2], fc1Bias: [0], fc2Kernel: [1, 1], fc2Bias: [0, 0],
                              inputScale: [Float](repeating: 1, count: 4224))
        }
        do {
            _ = try Localizer(className: "x", fc1Kernel: [Float](repeating: 0, count: 4224), fc1Bias: [0],
                              fc2Kernel: [1, 1], fc2Bias: [0, 0], inputScale: [Float](repeating: 0, count: 4224))
            Issue.record("a zero input scale was accepted")
        } catch {
            #expect("\(error)".contains("input scale"))
        }
    }
}
