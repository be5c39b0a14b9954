import ArgumentParser
import Contrastive
import Domain
import Encoder
import Foundation
import Training
import Wire

/// `comcl loss`: the multi-level loss of one batch of embeddings from any model, as JSON, so a
/// user can check our loss against theirs (docs/method.md sections 3-4).
struct LossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "The CoMCL losses, K_t and selected anchors of one batch of embeddings (.npy), as JSON.")

    @Option(help: "2N x D float32 .npy: rows 0..N-1 first views, N..2N-1 second views (L2-normalised here).") var embeddings: String
    @Option(help: "N int32/int64 .npy of levels: 0 L, 1 L~, 2 H, 3 H~.") var levels: String
    @Option(help: "Training step t.") var step: Int
    @Option(help: "Total steps T (the K_t schedule reaches K_min at t = T).") var total: Int
    @Option(help: "SPL anchor selection: quantile (docs/method.md's default) or paper (L_i < 1/K_t).") var splThreshold = "quantile"
    @Option(help: "Temperature (docs/method.md, prior work: 0.07).") var tau = 0.07
    @Option(help: "Floor of K_t (docs/method.md: 1).") var kMin = 1
    @Option(help: "rho_0 of the quantile mode (docs/method.md: 0.5).") var rho0 = 0.5
    @Option(
        help: "Pairings, comma-separated, each ANCHORS-NEGATIVES (default CoMCL's: L-L~,L-H,L~-H~; e.g. L+L~-H+H~ for lesion vs healthy).")
    var pairings = "L-L~,L-H,L~-H~"
    @Option(help: "Weights of the pairings, comma-separated (default 1 each).") var weights: String?
    @Flag(help: "No SPL: every negative, every anchor (the paper's 'w/o SPL').") var noSpl = false

    func run() throws {
        guard total > 0, step >= 0 else { throw ValidationError("--total must be positive and --step at least 0") }
        guard tau > 0, kMin >= 1, (0...1).contains(rho0) else {
            throw ValidationError("--tau must be positive, --k-min at least 1, --rho0 in [0, 1]")
        }
        guard let threshold = SPLThreshold(rawValue: splThreshold) else {
            throw ValidationError("--spl-threshold must be quantile or paper")
        }
        // The loss a training run with these options would use (one place builds it).
        var config = TrainingConfig()
        config.mode = noSpl ? .noSPL : .comcl
        config.pairings = pairings.split(separator: ",").map(String.init)
        (config.tau, config.kMin, config.splThreshold, config.rho0) = (tau, kMin, threshold, rho0)
        let loss: MultiLevelLoss
        do {
            config.weights = try weights.map { try TrainingConfig.weights(parsing: $0) } ?? []
            loss = try config.loss()
        } catch { throw ValidationError("\(error)") }
        let (z, d, levelList) = try readInputs()
        let outcome = loss.compute(
            embeddings: MultiLevelLoss.normalized(z, dimension: d), dimension: d, levels: levelList, step: step, totalSteps: total)
        let report: [String: Any] = [
            "step": step, "total_steps": total, "patches": levelList.count, "dimension": d,
            "spl_threshold": noSpl ? "off" : threshold.rawValue, "tau": tau,
            "loss": outcome.total,
            "pairings": outcome.pairings.map { p -> [String: Any] in
                [
                    "pairing": p.pairing.description, "weight": p.pairing.weight, "loss": p.loss, "k_t": p.hardNegatives,
                    "negatives": p.negatives, "anchors": p.anchors, "selected": p.selected.count, "selected_rows": p.selected,
                ]
            },
        ]
        let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: json, as: UTF8.self))
        for p in outcome.pairings where p.anchors == 0 || p.negatives == 0 {
            FileHandle.standardError.write(
                Data(
                    "note: pairing \(p.pairing) has \(p.anchors) anchors and \(p.negatives) negatives in this batch; it contributes 0\n"
                        .utf8))
        }
    }

    private func readInputs() throws -> (z: [Float], d: Int, levels: [Level]) {
        let (values, shape): ([Float], [Int])
        do { (values, shape) = try NumPyFile.readFloat32(try Data(contentsOf: URL(fileURLWithPath: embeddings))) } catch {
            throw ValidationError("--embeddings \(embeddings): \(error)")
        }
        let codes: [Int], levelShape: [Int]
        do { (codes, levelShape) = try NumPyFile.readIntegers(try Data(contentsOf: URL(fileURLWithPath: levels))) } catch {
            throw ValidationError("--levels \(levels): \(error)")
        }
        guard levelShape.count == 1, !codes.isEmpty else {
            throw ValidationError("--levels \(levels): expected a 1-D array of N levels, got shape \(levelShape)")
        }
        guard shape.count == 2, shape[0] == 2 * codes.count, shape[1] > 0 else {
            throw ValidationError(
                "--embeddings \(embeddings): expected shape (\(2 * codes.count), D) for \(codes.count) levels, got \(shape)")
        }
        guard values.allSatisfy(\.isFinite) else { throw ValidationError("--embeddings \(embeddings): holds NaN or infinite values") }
        let list = try codes.enumerated().map { index, code -> Level in
            guard (0..<4).contains(code) else {
                throw ValidationError("--levels \(levels): entry \(index) is \(code); levels are 0 L, 1 L~, 2 H, 3 H~")
            }
            return Level.allCases[code]
        }
        return (values, shape[1], list)
    }
}
