import DivSeg
import DivSegCore
import Foundation
import Testing
import DivSegMethodTestSupport

@Suite("Localizer: MIL losses and gradients")
struct LocalizerLossTests {
    static func randomMaps(seed: UInt64, spread: Float = 3) -> ([Float], [Float]) {
        var rng = SplitMix64(seed: seed)
        return (rng.floats(5376, in: -spread...spread), rng.floats(5376, in: -spread...spread))
    }

    @Test("global and pixel softmax follow their formulas", arguments: LocalizerLoss.allCases)
    func formulas(loss: LocalizerLoss) {
        let (f, b) = Self.randomMaps(seed: 1)
        let e1 = loss.evaluate(foreground: f, background: b, present: true)
        let e0 = loss.evaluate(foreground: f, background: b, present: false)
        let p: Double
        switch loss {
        case .globalSoftmax:
            let (mf, mb) = (Double(f.max()!), Double(b.max()!))
            p = exp(mf) / (exp(mf) + exp(mb))
            #expect(e1.terms.map(\.location).sorted() == [f.firstIndex(of: f.max()!)!, b.firstIndex(of: b.max()!)!].sorted())
        case .pixelSoftmax:
            p = zip(f, b).map { exp(Double($0)) / (exp(Double($0)) + exp(Double($1))) }.max()!
            #expect(e1.terms.count == 1)
        }
        #expect(abs(Double(e1.probability) - p) < 1e-6)
        #expect(abs(Double(e1.loss) + log(p)) < 1e-5)
        #expect(abs(Double(e0.loss) + log(1 - p)) < 1e-5)
        #expect(e1.probability == loss.probability(foreground: f, background: b))
    }

    @Test("the loss stays finite and exact for extreme scores", arguments: LocalizerLoss.allCases)
    func stability(loss: LocalizerLoss) {
        var f = [Float](repeating: -1000, count: 5376), b = [Float](repeating: -1000, count: 5376)
        f[7] = 1000
        let sure = loss.evaluate(foreground: f, background: b, present: true)
        let wrong = loss.evaluate(foreground: f, background: b, present: false)
        #expect(sure.loss == 0 && sure.probability == 1)
        #expect(wrong.loss.isFinite && abs(wrong.loss - 2000) < 1e-3)
        #expect(wrong.terms.allSatisfy { $0.dForeground.isFinite && $0.dBackground.isFinite })
        #expect(LocalizerLoss.logLoss(logit: -200, present: true) == 200)
        #expect(LocalizerLoss.logLoss(logit: 30, present: true) > 0)
    }

    /// A central difference of `loss` in a parameter, with the step shrunk until neither
    /// side moves the max locations (a max has kinks: a difference across one measures
    /// nothing). Nil when no step keeps them.
    static func centralDifference(base: [Int], _ loss: (Float) throws -> (loss: Double, locations: [Int]),
                                  steps: [Float] = [1e-2, 2.5e-3, 6e-4, 1.5e-4]) rethrows -> Double? {
        for h in steps {
            let (plus, minus) = (try loss(h), try loss(-h))
            if plus.locations == base && minus.locations == base {
                return (plus.loss - minus.loss) / Double(2 * h)
            }
        }
        return nil
    }

    @Test("gradients with respect to the maps match finite differences", arguments: LocalizerLoss.allCases)
    func mapGradients(loss: LocalizerLoss) throws {
        let (f, b) = Self.randomMaps(seed: 2)
        for present in [true, false] {
            let e = loss.evaluate(foreground: f, background: b, present: present)
            let base = e.terms.map(\.location)
            for term in e.terms {
                for (isForeground, analytic) in [(true, term.dForeground), (false, term.dBackground)] {
                    let numeric = try #require(Self.centralDifference(base: base) { delta in
                        var f2 = f, b2 = b
                        if isForeground { f2[term.location] += delta } else { b2[term.location] += delta }
                        let e2 = loss.evaluate(foreground: f2, background: b2, present: present)
                        return (Double(e2.loss), e2.terms.map(\.location))
                    })
                    #expect(abs(numeric - Double(analytic)) < 2e-3, "\(loss) present \(present) at \(term.location)")
                }
            }
            // Anywhere else the loss does not move.
            var f2 = f
            f2[(e.terms[0].location + 1) % 5376] -= 0.5
            #expect(loss.evaluate(foreground: f2, background: b, present: present).loss == e.loss)
        }
    }

    @Test("the parameter gradient of a tiny random model matches finite differences", arguments: LocalizerLoss.allCases)
    func parameterGradients(loss: LocalizerLoss) throws {
        let features = LocalizerFixture.randomFeatures(seed: 11)
        var rng = SplitMix64(seed: 5)
        let hidden = 6
        let scale = rng.floats(4224, in: 0.5...1.5)
        let start = Localizer(randomWithHiddenUnits: hidden, className: "tiny", loss: loss, inputScale: scale, seed: 9)
        let model = try Localizer(className: "tiny", loss: loss, fc1Kernel: start.fc1Kernel,
                                  fc1Bias: rng.floats(hidden, in: 0...0.5), fc2Kernel: start.fc2Kernel,
                                  fc2Bias: [0.1, -0.1], inputScale: scale)
        for present in [true, false] {
            let g = model.gradient(features, present: present)
            #expect(g.fc1Factors.count == g.evaluation.terms.count)
            #expect(loss == .globalSoftmax || g.fc1Factors.count == 1)
            let dense = g.denseFC1Kernel()

            // Perturbs one parameter array at one index: the loss and the max locations.
            func lossWith(_ which: Int, _ index: Int, _ delta: Float) throws -> (loss: Double, locations: [Int]) {
                var arrays = [model.fc1Kernel, model.fc1Bias, model.fc2Kernel, model.fc2Bias]
                arrays[which][index] += delta
                let m = try Localizer(className: "tiny", loss: loss, fc1Kernel: arrays[0], fc1Bias: arrays[1],
                                      fc2Kernel: arrays[2], fc2Bias: arrays[3], inputScale: scale)
                let e = m.evaluate(features, present: present)
                return (Double(e.loss), e.terms.map(\.location))
            }
            let base = g.evaluation.terms.map(\.location)
            let analytic: [[Float]] = [dense, g.fc1Bias, g.fc2Kernel, g.fc2Bias]
            var checked = 0
            for which in 0..<4 {
                // The entries with the largest gradients.
                let order = analytic[which].indices.sorted { abs(analytic[which][$0]) > abs(analytic[which][$1]) }
                for index in order.prefix(which == 0 ? 6 : 3) where abs(analytic[which][index]) > 1e-4 {
                    guard let numeric = try Self.centralDifference(base: base, { try lossWith(which, index, $0) }) else {
                        continue
                    }
                    let a = Double(analytic[which][index])
                    #expect(abs(numeric - a) <= 0.03 * abs(a) + 2e-3,
                            "array \(which) index \(index): analytic \(a), numeric \(numeric)")
                    checked += 1
                }
            }
            #expect(checked >= 8)
            // fc1 gradient rows are zero for hidden units that are off at the max locations.
            let factorRows = Set(g.fc1Factors.flatMap { f in f.outer.indices.filter { f.outer[$0] != 0 } })
            for r in 0..<hidden where !factorRows.contains(r) {
                #expect(dense[(r * 4224)..<((r + 1) * 4224)].allSatisfy { $0 == 0 })
            }
        }
    }
}
