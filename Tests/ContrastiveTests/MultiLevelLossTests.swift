import Basics
import Contrastive
import Domain
import Encoder
import Foundation
import Testing
import Wire

/// The loss against the NumPy reference (Tests/Fixtures/contrastive/multilevel_loss_reference.py):
/// per-pairing losses, K_t, the selected anchors, the total, dL/dz for every embedding, and the
/// "is it learning?" cosines.
// SafeTensors is immutable once read, so sharing the one copy between tests is safe.
@Suite struct MultiLevelLossTests {
    nonisolated(unsafe) static let fixture: SafeTensors = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/contrastive/multilevel_loss.safetensors")
        let file = try! SafeTensors(contentsOf: url)
        precondition(
            file.metadata["format"] == "comcl-contrastive-fixture" && file.metadata["version"] == "2", "unexpected fixture \(file.metadata)"
        )
        return file
    }()
    nonisolated(unsafe) static let cases =
        try! JSONSerialization.jsonObject(with: Data(fixture.metadata["cases"]!.utf8)) as! [String: [String: Any]]

    static func input() throws -> (z: [Float], levels: [Level], d: Int) {
        let raw = try fixture.floats("embeddings")
        let d = try fixture.entry("embeddings").shape[1]
        let levels = try fixture.integers("levels").map { Level.allCases[Int($0)] }
        return (MultiLevelLoss.normalized(raw, dimension: d), levels, d)
    }

    @Test(arguments: ["start_quantile", "middle_quantile", "end_quantile", "middle_paper", "no_spl", "tau_kmin_weights", "no_multilevel"])
    func matchesNumPy(_ name: String) throws {
        let settings = try #require(Self.cases[name])
        let (z, levels, d) = try Self.input()
        var schedule = SelfPacedSchedule()
        schedule.kMin = settings["k_min"] as? Int ?? 1
        schedule.threshold = (settings["mode"] as? String).flatMap(SPLThreshold.init(rawValue:)) ?? .quantile
        var pairings = Pairing.comcl
        if let weights = settings["weights"] as? [Double] { for i in pairings.indices { pairings[i].weight = weights[i] } }
        if settings.keys.contains("pairings") { pairings = [Pairing.lesionVsHealthy] }
        let loss = MultiLevelLoss(
            pairings: pairings, tau: settings["tau"] as? Double ?? 0.07, schedule: settings["spl"] as? Bool == false ? nil : schedule)
        let outcome = loss.compute(
            embeddings: z, dimension: d, levels: levels, step: settings["t"] as! Int, totalSteps: settings["total"] as! Int)

        let losses = try Self.fixture.floats("\(name).losses")
        let ks = try Self.fixture.integers("\(name).k")
        let selected = try Self.fixture.integers("\(name).selected")
        for (p, result) in outcome.pairings.enumerated() {
            #expect(
                abs(result.loss - Double(losses[p])) <= 1e-5 * max(1, abs(Double(losses[p]))),
                "\(name) \(result.pairing): \(result.loss) vs \(losses[p])")
            #expect(result.hardNegatives == Int(ks[p]), "\(name) \(result.pairing): K \(result.hardNegatives) vs \(ks[p])")
            let expected = (0..<levels.count).filter { selected[p * levels.count + $0] == 1 }
            #expect(result.selected == expected, "\(name) \(result.pairing): anchors \(result.selected) vs \(expected)")
        }
        let cosines = try Self.fixture.floats("\(name).cosines")
        for (p, result) in outcome.pairings.enumerated() {
            #expect(
                abs(result.positiveCosine - Double(cosines[2 * p])) <= 1e-5
                    && abs(result.negativeCosine - Double(cosines[2 * p + 1])) <= 1e-5,
                "\(name) \(result.pairing): cosines \(result.positiveCosine), \(result.negativeCosine) vs \(cosines[2 * p]), \(cosines[2 * p + 1])"
            )
        }
        let similarity = try Self.fixture.floats("\(name).similarity")
        #expect(
            abs(outcome.similarity.positive - Double(similarity[0])) <= 1e-5
                && abs(outcome.similarity.other - Double(similarity[1])) <= 1e-5,
            "\(name): similarity \(outcome.similarity) vs \(similarity)")
        let total = Double(try Self.fixture.floats("\(name).total")[0])
        #expect(abs(outcome.total - total) <= 1e-5 * max(1, abs(total)))
        let reference = try Self.fixture.floats("\(name).grad")
        let scale = reference.map { abs($0) }.max()!
        let worst = zip(outcome.gradient, reference).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5 * max(scale, 1e-3), "\(name): gradient off by \(worst) (scale \(scale))")
    }

    @Test func scheduleFollowsTheCosine() {
        let schedule = SelfPacedSchedule()
        #expect(schedule.hardNegatives(available: 100, step: 0, totalSteps: 50) == 100)
        #expect(schedule.hardNegatives(available: 100, step: 25, totalSteps: 50) == 70)  // floor(100 cos(pi/4))
        #expect(schedule.hardNegatives(available: 100, step: 50, totalSteps: 50) == 1)  // K_min
        #expect(schedule.hardNegatives(available: 100, step: 80, totalSteps: 50) == 1)
        // NumPy's linear quantile, both interpolation sides.
        #expect(SelfPacedSchedule.quantile([4, 1, 3, 2], 0.5) == 2.5)
        #expect(SelfPacedSchedule.quantile([4, 1, 3, 2], 0.9) == 3.7)
        #expect(SelfPacedSchedule.quantile([5], 0.3) == 5)
    }

    @Test func emptyPairingsContributeNothing() {
        let z = MultiLevelLoss.normalized([1, 0, 0, 1, 1, 1, 0.5, 1], dimension: 2)
        let outcome = MultiLevelLoss().compute(embeddings: z, dimension: 2, levels: [.lesionHigh, .healthyHigh], step: 0, totalSteps: 10)
        #expect(outcome.pairings.map(\.anchors) == [1, 1, 0])
        #expect(outcome.pairings[0].loss == 0 && outcome.pairings[0].negatives == 0)  // no L~ in the batch
        #expect(outcome.pairings[1].selected == [0])  // one anchor: the quantile keeps it
        #expect(outcome.total == outcome.pairings[1].loss && outcome.total > 0)
    }

    @Test func pairingsParse() throws {
        #expect(try Pairing(parsing: "L-L~") == Pairing.comcl[0])
        #expect(try Pairing(parsing: "L+L~-H+H~") == Pairing.lesionVsHealthy)
        #expect(Pairing.lesionVsHealthy.description == "L+L~-H+H~")
        #expect(throws: Problem.self) { try Pairing(parsing: "L-X") }
        #expect(throws: Problem.self) { try Pairing(parsing: "L-L") }
        #expect(throws: Problem.self) { try Pairing(parsing: "L") }
    }
}
