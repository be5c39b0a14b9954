import Encoder
import Evaluation
import Foundation
import Testing

/// The weighted cosine kNN against scikit-learn's KNeighborsClassifier with the same metric
/// and weights (Tests/Fixtures/evaluation/make_knn_fixture.py), for a grading and a
/// multi-label case.
@Suite struct WeightedKNNTests {
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/evaluation/knn.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    static func matrix(_ key: String) -> Matrix {
        let rows = fixture[key] as! [[Double]]
        return Matrix(rows: rows.count, cols: rows[0].count, values: rows.flatMap { $0.map(Float.init) })
    }

    static func worst(_ ours: [[Double]], _ theirs: [[Double]]) -> Double {
        zip(ours, theirs).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? .infinity
    }

    @Test(arguments: [1, 5, 20])
    func gradingMatchesScikitLearn(_ k: Int) throws {
        let grading = Self.fixture["grading"] as! [String: Any]
        let targets = (grading["labels"] as! [Int]).map { label in (0..<5).map { $0 == label ? 1.0 : 0.0 } }
        let expected = (grading["probabilities"] as! [String: [[Double]]])["\(k)"]!
        let knn = WeightedKNN(
            features: Self.matrix("train"), targets: targets, neighbours: k, temperature: Self.fixture["temperature"] as! Double)
        let ours = knn.predict(Self.matrix("test"))
        #expect(ours.count == expected.count)
        #expect(Self.worst(ours, expected) < 1e-9, "k \(k): largest difference \(Self.worst(ours, expected))")
    }

    @Test func multiLabelMatchesScikitLearnPerLabel() throws {
        let case_ = Self.fixture["multilabel"] as! [String: Any]
        let targets = (case_["positives"] as! [[Int]]).map { $0.map(Double.init) }
        let knn = WeightedKNN(features: Self.matrix("train"), targets: targets, neighbours: case_["k"] as! Int)
        let expected = case_["scores"] as! [[Double]]
        #expect(Self.worst(knn.predict(Self.matrix("test")), expected) < 1e-9)
    }

    @Test func moreNeighboursThanImagesUsesThemAll() {
        let train = Matrix(rows: 2, cols: 2, values: [1, 0, 0, 1])
        let knn = WeightedKNN(features: train, targets: [[1, 0], [0, 1]], neighbours: 20)
        let scores = knn.predict(Matrix(rows: 1, cols: 2, values: [1, 0]))[0]
        // Weights exp(1 / 0.07) and exp(0): the first class holds all but about 6e-7 of the vote.
        #expect(abs(scores[0] - 1 / (1 + exp(-1 / 0.07))) < 1e-12 && abs(scores.reduce(0, +) - 1) < 1e-12)
    }
}
