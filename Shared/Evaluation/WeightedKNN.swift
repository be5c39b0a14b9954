import Encoder
import Foundation

/// A weighted cosine k-nearest-neighbour classifier on frozen features, as solo-learn and the
/// instance-discrimination work it follows score self-supervised encoders (Wu et al. 2018,
/// section 3.4): features are L2-normalised; a test image's k most similar training images
/// vote, each with weight exp(cos / T); a class's score is its share of the votes (a multi-label
/// task: each label's, from the neighbours that have it). Nothing is trained, so it judges the
/// features alone.
public struct WeightedKNN: Sendable {
    /// solo-learn's defaults (WeightedKNNClassifier): k = 20, T = 0.07.
    public static let defaultNeighbours = 20
    public static let defaultTemperature = 0.07

    public let neighbours: Int
    public let temperature: Double
    private let train: [[Double]]
    /// Each training image's target: one-hot (grading) or multi-hot (multi-label).
    private let targets: [[Double]]

    /// `features`: one row per training image; `targets`: its one-hot or multi-hot row.
    public init(features: Matrix, targets: [[Double]], neighbours: Int = defaultNeighbours, temperature: Double = defaultTemperature) {
        precondition(features.rows == targets.count, "\(features.rows) feature rows for \(targets.count) targets")
        precondition(neighbours >= 1 && temperature > 0, "k \(neighbours), T \(temperature)")
        (self.neighbours, self.temperature, self.targets) = (neighbours, temperature, targets)
        train = Self.normalized(features)
    }

    /// Each test image's class (or label) scores, rows summing to 1 for grading.
    public func predict(_ features: Matrix) -> [[Double]] {
        let k = min(neighbours, train.count)
        return Self.normalized(features).map { query in
            let similarities = train.map { row in zip(row, query).reduce(0) { $0 + $1.0 * $1.1 } }
            // The k most similar; ties go to the earlier training image (a stable order).
            let nearest = similarities.indices.sorted { (similarities[$0], -$0) > (similarities[$1], -$1) }.prefix(k)
            var scores = [Double](repeating: 0, count: targets.first?.count ?? 0)
            var total = 0.0
            for index in nearest {
                let weight = exp(similarities[index] / temperature)
                total += weight
                for (c, y) in targets[index].enumerated() { scores[c] += weight * y }
            }
            return scores.map { $0 / total }
        }
    }

    /// Rows of `m` scaled to unit length, in Double (an all-zero row stays zero).
    static func normalized(_ m: Matrix) -> [[Double]] {
        (0..<m.rows).map { r in
            let row = (0..<m.cols).map { Double(m.pointer[r * m.cols + $0]) }
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? row.map { $0 / norm } : row
        }
    }
}
