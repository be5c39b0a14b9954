import Contrastive
import Domain
import Foundation
import Testing
import Wire

/// Basic CL (instance contrast): anchors and negatives are every level, and an anchor is never
/// its own negative. Checked by hand for one anchor and by finite differences for the gradient.
@Suite struct InstanceContrastTests {
    static let all = Set(Level.allCases)
    static let loss = MultiLevelLoss(pairings: [Pairing(anchors: all, negatives: all)], tau: 0.5, schedule: nil)
    static let n = 5, d = 3
    static let levels: [Level] = (0..<n).map { Level.allCases[$0 % 4] }
    static let z: [Float] = {
        let raw: [Float] = (0..<(2 * n * d)).map { (i: Int) -> Float in Float(sin(Double(i) * 1.7)) }
        return MultiLevelLoss.normalized(raw, dimension: d)
    }()

    @Test func everyOtherPatchIsANegative() {
        let outcome = Self.loss.compute(embeddings: Self.z, dimension: Self.d, levels: Self.levels, step: 0, totalSteps: 1)
        #expect(outcome.pairings[0].negatives == Self.n - 1 && outcome.pairings[0].anchors == Self.n)
        func dot(_ a: Int, _ b: Int) -> Double {
            (0..<Self.d).reduce(0) { $0 + Double(Self.z[a * Self.d + $1]) * Double(Self.z[b * Self.d + $1]) }
        }
        // By hand: mean over anchors of -log(e^{s_ii~/t} / (e^{s_ii~/t} + sum_{k != i} e^{s_ik/t})).
        let expected =
            (0..<Self.n).map { i in
                let positive = exp(dot(i, Self.n + i) / 0.5)
                let negatives = (0..<Self.n).filter { $0 != i }.reduce(0.0) { $0 + exp(dot(i, $1) / 0.5) }
                return -log(positive / (positive + negatives))
            }.reduce(0, +) / Double(Self.n)
        #expect(abs(outcome.total - expected) < 1e-9)
    }

    @Test func gradientMatchesFiniteDifferences() {
        let analytic = Self.loss.compute(embeddings: Self.z, dimension: Self.d, levels: Self.levels, step: 0, totalSteps: 1).gradient
        var worst = 0.0
        for index in Self.z.indices {
            // Float inputs: a 1e-2 step keeps the rounding error of the difference near 1e-5.
            let h: Float = 1e-2
            var plus = Self.z, minus = Self.z
            plus[index] += h
            minus[index] -= h
            let f = { (x: [Float]) in Self.loss.compute(embeddings: x, dimension: Self.d, levels: Self.levels, step: 0, totalSteps: 1).total
            }
            let numeric = (f(plus) - f(minus)) / Double(plus[index] - minus[index])
            worst = max(worst, abs(numeric - Double(analytic[index])))
        }
        #expect(worst < 2e-3, "largest difference \(worst)")
    }
}
