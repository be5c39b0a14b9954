import Foundation
import Metrics
import Testing

/// Our scores against scikit-learn's on committed cases (Tests/Fixtures/metrics/metrics.json,
/// made by make_metrics_fixtures.py): random grading with near-misses, grades absent from both
/// sides, one class only (kappa undefined), multi-label scores with many ties, a label nobody
/// has (AUC undefined).
@Suite struct GoldenScoreTests {
    struct Fixture: Decodable {
        let format: String
        let version: Int
        let cases: [Case]
    }

    struct Case: Decodable {
        let name: String
        let task: String
        let truth: Truth
        let predicted: [Int]?
        let accuracy: Double?
        let quadraticKappa: Double?
        let confusion: [[Int]]?
        let perGradeRecall: [Double?]?
        let labels: [String]?
        let threshold: Double?
        let scores: [[Double]]?
        let perLabel: [Label]?
    }

    /// Grading truth is a list of grades; multi-label truth a 0/1 matrix.
    enum Truth: Decodable {
        case grades([Int]), matrix([[Int]])
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let m = try? c.decode([[Int]].self) { self = .matrix(m) } else { self = .grades(try c.decode([Int].self)) }
        }
    }

    struct Label: Decodable {
        let label: String
        let accuracy: Double
        let kappa: Double?
        let auc: Double?
    }

    static let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/metrics/metrics.json")

    static let fixture: Fixture = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(Fixture.self, from: Data(contentsOf: fixtureURL))
    }()

    static func close(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case let (x?, y?): abs(x - y) <= 1e-12 * max(1, abs(y))
        default: false
        }
    }

    @Test func fixtureIsTheVersionWeRead() {
        #expect(Self.fixture.format == "comcl-metrics-fixture" && Self.fixture.version == 1)
        #expect(Self.fixture.cases.count == 6)
    }

    @Test(arguments: fixture.cases.filter { $0.task == "grading" }.map(\.name))
    func gradingMatchesScikitLearn(_ name: String) throws {
        let c = try #require(Self.fixture.cases.first { $0.name == name })
        guard case .grades(let truth) = c.truth else { Issue.record("grading truth must be grades"); return }
        let s = GradingScore(truth: truth, predicted: try #require(c.predicted), classes: 5)
        #expect(Self.close(s.accuracy, c.accuracy), "accuracy \(s.accuracy) vs \(String(describing: c.accuracy))")
        #expect(
            Self.close(s.quadraticKappa, c.quadraticKappa),
            "kappa \(String(describing: s.quadraticKappa)) vs \(String(describing: c.quadraticKappa))")
        #expect(s.confusion.counts == c.confusion)
        let recall = try #require(c.perGradeRecall)
        #expect(zip(s.perGradeRecall, recall).allSatisfy { Self.close($0, $1) }, "recall \(s.perGradeRecall) vs \(recall)")
        if c.quadraticKappa == nil { #expect(s.notes.contains { $0.contains("kappa is undefined") }) }
    }

    @Test(arguments: fixture.cases.filter { $0.task == "multilabel" }.map(\.name))
    func multiLabelMatchesScikitLearn(_ name: String) throws {
        let c = try #require(Self.fixture.cases.first { $0.name == name })
        guard case .matrix(let truth) = c.truth else { Issue.record("multi-label truth must be a matrix"); return }
        let s = MultiLabelScore(
            labels: try #require(c.labels), truth: truth.map { $0.map { $0 == 1 } }, scores: try #require(c.scores),
            threshold: try #require(c.threshold))
        let expected = try #require(c.perLabel)
        for (ours, theirs) in zip(s.labels, expected) {
            #expect(ours.label == theirs.label)
            #expect(Self.close(ours.accuracy, theirs.accuracy), "\(ours.label) accuracy")
            #expect(
                Self.close(ours.kappa, theirs.kappa),
                "\(ours.label) kappa \(String(describing: ours.kappa)) vs \(String(describing: theirs.kappa))")
            #expect(
                Self.close(ours.auc, theirs.auc), "\(ours.label) AUC \(String(describing: ours.auc)) vs \(String(describing: theirs.auc))")
        }
        let aucs = expected.compactMap(\.auc)
        #expect(Self.close(s.meanAUC, aucs.reduce(0, +) / Double(aucs.count)))
        if aucs.count < expected.count { #expect(s.notes.contains { $0.contains("AUC is undefined") }) }
    }
}
