import Foundation
import Testing
import TestSupport

/// A real training run's scalars as the usual tools read them: TensorBoard's own reader
/// (EventAccumulator, from the PyPI package in scripts/torch-venv.sh) opens the event file and
/// finds every scalar of every step; metrics.csv has a row per step under its header.
@Suite(.serialized) struct TensorBoardTests {
    static let steps = 4

    @Test(.enabled(if: TorchPython.available, "needs TensorBoard: scripts/torch-venv.sh (scripts/test.sh runs it)"))
    func tensorBoardReadsEveryScalarOfEveryStep() throws {
        let run = TrainingIntegrationTests.folder("tensorboard")
        defer { try? FileManager.default.removeItem(at: run) }
        let child = try TrainingIntegrationTests.train(run, port: 6820, steps: Self.steps)
        try #require(child.wait(timeout: 400) == 0, "\(child.output)")
        let script = """
            import json, sys
            from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
            a = EventAccumulator(sys.argv[1]); a.Reload()
            print(json.dumps({t: [[e.step, e.value] for e in a.Scalars(t)] for t in a.Tags()["scalars"]}))
            """
        let (code, output) = try TorchPython.run(["-c", script, run.appendingPathComponent("tensorboard").path])
        try #require(code == 0, "\(output)")
        let json = try #require(output.split(separator: "\n").last.map { Data($0.utf8) })
        let scalars = try JSONSerialization.jsonObject(with: json) as! [String: [[Double]]]
        for tag in [
            "loss/total", "loss/L-L~", "hard_negatives/L-H", "anchors/L~-H~", "cosine/positive", "cosine/other", "learning_rate",
            "patches_per_second", "busy/workers", "busy/coordinator",
        ] {
            #expect(scalars[tag]?.map { Int($0[0]) } == Array(1...Self.steps), "\(tag): \(scalars[tag] ?? [])")
        }
        // The event file's values are the metrics' (float32).
        let losses = try TrainingIntegrationTests.losses(run)
        for (step, loss) in losses { #expect(abs(scalars["loss/total"]![step][1] - loss) <= 1e-6 * max(1, abs(loss))) }
        let csv = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == Self.steps + 1 && csv[0].hasPrefix("step,wall_time,loss/total,"), "\(csv.first ?? "")")
    }
}
