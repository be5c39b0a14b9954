import Foundation
import Domain

/// What one pairing did in one step.
public struct PairingOutcome: Sendable, Equatable {
    public var pairing: Pairing
    /// The mean InfoNCE loss over the selected anchors (docs/method.md: the mean, not the paper's sum); 0 when none.
    public var loss: Double
    /// K_t: negatives kept per anchor (0 when the pairing had no anchors or no negatives).
    public var hardNegatives: Int
    /// delta: negatives available to each anchor.
    public var negatives: Int
    public var anchors: Int
    /// Batch positions of the anchors that took part.
    public var selected: [Int]
    /// Mean cosine of each anchor's two views, and of each anchor against every one of its
    /// available negatives (not only the kept ones), over all the pairing's anchors: a pairing
    /// that learns pulls the first towards 1 and the second well below it.
    public var positiveCosine = 0.0
    public var negativeCosine = 0.0
}

/// How alike the batch's embeddings are: the "is it learning?" signal. At initialisation both
/// cosines sit near 1 (every view maps to about the same direction) and the loss at
/// ln(1 + K); a collapsed encoder keeps them together; a learning one keeps `positive` high and
/// drives `other` down (the reference run left its plateau when `other` fell below about 0.2).
public struct Similarity: Sendable, Equatable, Codable {
    /// Mean cosine between the two views of one patch, over the batch.
    public var positive: Double
    /// Mean cosine between the first views of two different patches, over every pair.
    public var other: Double

    public init(positive: Double, other: Double) { (self.positive, self.other) = (positive, other) }
}

/// The loss of one batch and its gradient with respect to every embedding.
public struct LossOutcome: Sendable {
    public var pairings: [PairingOutcome]
    /// Weighted sum of the pairings' losses.
    public var total: Double
    public var similarity: Similarity
    /// dL/dz for each row of the embeddings (2N x D, the layout of the input).
    public var gradient: [Float]
}

/// The multi-level contrastive loss (docs/method.md sections 3-4) on L2-normalised embeddings: rows
/// 0..N-1 are the first views, N..2N-1 the second views of the same N patches. For each pairing,
/// each anchor's positive is its own second view and its negatives are the first views of the
/// pairing's negative levels, the K_t most similar kept (ties to the lower batch position).
public struct MultiLevelLoss: Sendable {
    public var pairings: [Pairing]
    /// Temperature (docs/method.md and prior work: 0.07).
    public var tau: Double
    /// nil: no SPL ("w/o SPL": every negative, every anchor).
    public var schedule: SelfPacedSchedule?

    public init(pairings: [Pairing] = Pairing.comcl, tau: Double = 0.07, schedule: SelfPacedSchedule? = SelfPacedSchedule()) {
        (self.pairings, self.tau, self.schedule) = (pairings, tau, schedule)
    }

    public func compute(embeddings z: [Float], dimension d: Int, levels: [Level], step: Int, totalSteps: Int) -> LossOutcome {
        let n = levels.count
        precondition(z.count == 2 * n * d, "\(z.count) values for \(2 * n) rows of \(d)")
        func dot(_ a: Int, _ b: Int) -> Double {
            var sum = 0.0
            for c in 0..<d { sum += Double(z[a * d + c]) * Double(z[b * d + c]) }
            return sum
        }
        var gradient = [Double](repeating: 0, count: z.count)
        func accumulate(_ row: Int, from source: Int, _ scale: Double) {
            for c in 0..<d { gradient[row * d + c] += scale * Double(z[source * d + c]) }
        }
        var outcomes: [PairingOutcome] = []
        var total = 0.0
        for pairing in pairings {
            let anchors = (0..<n).filter { pairing.anchors.contains(levels[$0]) }
            let negatives = (0..<n).filter { pairing.negatives.contains(levels[$0]) }
            // When anchor and negative levels overlap (instance contrast), an anchor is never its own negative.
            let delta = negatives.count - (pairing.anchors.isDisjoint(with: pairing.negatives) ? 0 : 1)
            var outcome = PairingOutcome(
                pairing: pairing, loss: 0, hardNegatives: 0, negatives: max(delta, 0), anchors: anchors.count, selected: [])
            guard !anchors.isEmpty, delta > 0 else {
                outcomes.append(outcome)
                continue
            }
            let k = schedule?.hardNegatives(available: delta, step: step, totalSteps: totalSteps) ?? delta
            // Per anchor: its loss, the kept negatives and the softmax over [positive] + kept.
            var losses: [Double] = [], parts: [(anchor: Int, kept: [Int], p: [Double])] = []
            var cosines = (positive: 0.0, negative: 0.0)
            for i in anchors {
                let positive = dot(i, n + i) / tau
                let others: [Int] = negatives.filter { $0 != i }
                let scored: [(row: Int, logit: Double)] = others.map { (row: $0, logit: dot(i, $0) / tau) }
                cosines.positive += positive * tau
                cosines.negative += scored.reduce(0) { $0 + $1.logit } * tau / Double(scored.count)
                let similar =
                    scored
                    .sorted { $0.logit != $1.logit ? $0.logit > $1.logit : $0.row < $1.row }.prefix(k)
                let logits = [positive] + similar.map(\.logit)
                let top = logits.max()!
                let logSum = top + log(logits.reduce(0) { $0 + exp($1 - top) })
                losses.append(logSum - positive)
                parts.append((i, similar.map(\.row), logits.map { exp($0 - logSum) }))
            }
            let chosen = schedule?.selected(losses: losses, k: k, delta: delta) ?? losses.map { _ in true }
            let count = chosen.filter { $0 }.count
            outcome.hardNegatives = k
            (outcome.positiveCosine, outcome.negativeCosine) = (
                cosines.positive / Double(anchors.count), cosines.negative / Double(anchors.count)
            )
            outcome.selected = zip(anchors, chosen).filter(\.1).map(\.0)
            outcome.loss = count == 0 ? 0 : zip(losses, chosen).filter(\.1).reduce(0) { $0 + $1.0 } / Double(count)
            for (part, taken) in zip(parts, chosen) where taken {
                // d(loss)/d(logit) = softmax - onehot(positive); logits are dot products / tau.
                let scale = pairing.weight / Double(count) / tau
                let i = part.anchor
                accumulate(i, from: n + i, scale * (part.p[0] - 1))
                accumulate(n + i, from: i, scale * (part.p[0] - 1))
                for (row, p) in zip(part.kept, part.p.dropFirst()) {
                    accumulate(i, from: row, scale * p)
                    accumulate(row, from: i, scale * p)
                }
            }
            total += pairing.weight * outcome.loss
            outcomes.append(outcome)
        }
        return LossOutcome(pairings: outcomes, total: total, similarity: Self.similarity(n: n, dot), gradient: gradient.map { Float($0) })
    }

    /// The batch's mean positive-pair and other-pair cosines (rows: first views, then second views).
    static func similarity(n: Int, _ dot: (Int, Int) -> Double) -> Similarity {
        guard n > 0 else { return Similarity(positive: 0, other: 0) }
        var positive = 0.0, other = 0.0
        for i in 0..<n {
            positive += dot(i, n + i)
            for j in (i + 1)..<n { other += dot(i, j) }
        }
        return Similarity(positive: positive / Double(n), other: n > 1 ? other / Double(n * (n - 1) / 2) : 0)
    }

    /// Rows scaled to unit length (what the encoder's head outputs); a zero row stays zero.
    public static func normalized(_ x: [Float], dimension d: Int) -> [Float] {
        var out = x
        for row in 0..<(x.count / d) {
            let norm = (0..<d).reduce(0.0) { $0 + Double(x[row * d + $1]) * Double(x[row * d + $1]) }.squareRoot()
            guard norm > 0 else { continue }
            for c in 0..<d { out[row * d + c] = Float(Double(x[row * d + c]) / norm) }
        }
        return out
    }
}
