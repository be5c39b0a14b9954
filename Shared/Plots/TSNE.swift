import Basics
import Foundation

/// Exact t-SNE (van der Maaten & Hinton 2008): O(n^2) per iteration, for the few hundred points
/// a report projects. Defaults are the paper's and scikit-learn's: perplexity 30, early
/// exaggeration 12 for 250 iterations with momentum 0.5, then 0.8, 1000 iterations, learning
/// rate 200, delta-bar-delta gains (min 0.01); a seeded N(0, 1e-4) start.
public struct TSNE: Sendable {
    public var perplexity = 30.0
    public var iterations = 1000
    public var learningRate = 200.0
    public var earlyExaggeration = 12.0
    public var exaggerationIterations = 250
    public var seed: UInt64 = 0

    public init() {}

    public struct Result: Sendable {
        public let points: [(x: Double, y: Double)]
        /// KL(P || Q) of the final embedding, and after the exaggeration phase.
        public let divergence: Double
        public let divergenceAfterExaggeration: Double
    }

    /// Rows of `data` (n x d) to 2-D.
    public func embed(_ data: [[Double]]) -> Result {
        let n = data.count
        guard n > 2 else { return Result(points: data.indices.map { (Double($0), 0) }, divergence: 0, divergenceAfterExaggeration: 0) }
        let p = affinities(data)
        var g = SeededGenerator(seed: seed, 0x75E)
        var y = (0..<(2 * n)).map { _ in g.normal() * 1e-4 }
        var update = [Double](repeating: 0, count: 2 * n), gains = [Double](repeating: 1, count: 2 * n)
        var num = [Double](repeating: 0, count: n * n)
        var afterExaggeration = 0.0
        for iteration in 0..<iterations {
            let exaggeration = iteration < exaggerationIterations ? earlyExaggeration : 1
            let momentum = iteration < exaggerationIterations ? 0.5 : 0.8
            // Student-t kernel (one degree of freedom) and its sum.
            var sum = 0.0
            for i in 0..<n {
                for j in (i + 1)..<n {
                    let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
                    let v = 1 / (1 + dx * dx + dy * dy)
                    num[i * n + j] = v
                    num[j * n + i] = v
                    sum += 2 * v
                }
            }
            for i in 0..<n {
                var gx = 0.0, gy = 0.0
                for j in 0..<n where j != i {
                    let v = num[i * n + j]
                    let f = 4 * (exaggeration * p[i * n + j] - v / sum) * v
                    gx += f * (y[2 * i] - y[2 * j])
                    gy += f * (y[2 * i + 1] - y[2 * j + 1])
                }
                for (k, grad) in [(2 * i, gx), (2 * i + 1, gy)] {
                    gains[k] = (grad > 0) != (update[k] > 0) ? gains[k] + 0.2 : max(gains[k] * 0.8, 0.01)
                    update[k] = momentum * update[k] - learningRate * gains[k] * grad
                }
            }
            for k in 0..<(2 * n) { y[k] += update[k] }
            if iteration == exaggerationIterations - 1 { afterExaggeration = divergence(p, y, n) }
        }
        return Result(
            points: (0..<n).map { (y[2 * $0], y[2 * $0 + 1]) }, divergence: divergence(p, y, n),
            divergenceAfterExaggeration: afterExaggeration)
    }

    /// Symmetrised input affinities: each row's Gaussian bandwidth found by bisection so its
    /// entropy is log(perplexity), then (P + P^T) / 2n.
    func affinities(_ data: [[Double]]) -> [Double] {
        let n = data.count
        var d = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in (i + 1)..<n {
                var s = 0.0
                for k in 0..<data[i].count { let t = data[i][k] - data[j][k]; s += t * t }
                d[i * n + j] = s
                d[j * n + i] = s
            }
        }
        // A perplexity above a third of the points cannot be met (scikit-learn warns likewise).
        let target = log(min(perplexity, Double(n - 1) / 3))
        var conditional = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            var beta = 1.0, low = 0.0, high = Double.infinity
            var row = [Double](repeating: 0, count: n)
            for _ in 0..<100 {
                var sum = 0.0, weighted = 0.0
                for j in 0..<n where j != i {
                    row[j] = exp(-d[i * n + j] * beta)
                    sum += row[j]
                    weighted += d[i * n + j] * row[j]
                }
                sum = max(sum, 1e-300)
                let entropy = log(sum) + beta * weighted / sum
                for j in 0..<n { row[j] /= sum }
                if abs(entropy - target) < 1e-5 { break }
                if entropy > target {
                    low = beta; beta = high.isFinite ? (beta + high) / 2 : beta * 2
                } else {
                    high = beta; beta = (beta + low) / 2
                }
            }
            row[i] = 0
            for j in 0..<n { conditional[i * n + j] = row[j] }
        }
        var p = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { p[i * n + j] = max((conditional[i * n + j] + conditional[j * n + i]) / (2 * Double(n)), 1e-12) } }
        for i in 0..<n { p[i * n + i] = 0 }
        return p
    }

    func divergence(_ p: [Double], _ y: [Double], _ n: Int) -> Double {
        var sum = 0.0
        var q = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n where j != i {
                let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
                q[i * n + j] = 1 / (1 + dx * dx + dy * dy)
                sum += q[i * n + j]
            }
        }
        var kl = 0.0
        for i in 0..<n {
            for j in 0..<n where j != i && p[i * n + j] > 0 { kl += p[i * n + j] * log(p[i * n + j] / max(q[i * n + j] / sum, 1e-12)) }
        }
        return kl
    }
}
