import Encoder
import Evaluation
import Foundation
import Testing

/// The classifier losses and their gradients against PyTorch's (Tests/Fixtures/evaluation/
/// losses.json, made by make_loss_fixtures.py): ordinary, large (saturating) and tiny logits.
@Suite struct ClassificationLossTests {
    struct Fixture: Decodable {
        let format: String
        let cases: [Case]
    }
    struct Case: Decodable {
        let kind: String
        let logits: [[Double]]
        let targets: Targets
        let loss: Double
        let gradient: [[Double]]
    }
    enum Targets: Decodable {
        case classes([Int]), flags([[Int]])
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode([Int].self) { self = .classes(v) } else { self = .flags(try c.decode([[Int]].self)) }
        }
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/evaluation/losses.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    @Test func matchesPyTorch() {
        #expect(Self.fixture.format == "comcl-loss-fixture v1")
        #expect(Self.fixture.cases.count == 5)
        for (index, c) in Self.fixture.cases.enumerated() {
            let logits = Matrix(rows: c.logits.count, cols: c.logits[0].count, values: c.logits.flatMap { $0.map(Float.init) })
            let (loss, gradient): (Double, Matrix)
            switch c.targets {
            case .classes(let t): (loss, gradient) = ClassificationLoss.softmaxCrossEntropy(logits, targets: t)
            case .flags(let t): (loss, gradient) = ClassificationLoss.binaryCrossEntropy(logits, targets: t.map { $0.map { $0 == 1 } })
            }
            // Float32 logits: agreement to float precision, relative to the loss's size.
            #expect(abs(loss - c.loss) <= 1e-5 * max(1, abs(c.loss)), "case \(index) (\(c.kind)): loss \(loss) vs \(c.loss)")
            let expected = c.gradient.flatMap { $0 }
            let worst = zip(gradient.values, expected).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 1e-6, "case \(index) (\(c.kind)): gradient off by \(worst)")
        }
    }
}
