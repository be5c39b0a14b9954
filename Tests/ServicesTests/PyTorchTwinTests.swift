import Encoder
import Foundation
import Testing
import TestSupport

/// Our distributed pre-training against its PyTorch twin (Tests/Fixtures/training/make_twin_fixture.py):
/// `comcl train` with real processes (coordinator, detector/cropper, 2 augmenters, 2 embedding
/// workers) for 50 steps of the full CoMCL loss with SPL, the cosine schedule and Adam, on the
/// suite's 16 synthetic images; the twin trained in float64 on the very views this run makes.
@Suite(.serialized) struct PyTorchTwinTests {
    nonisolated(unsafe) static let fixture: SafeTensors = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/training/twin.safetensors")
        let file = try! SafeTensors(contentsOf: url)
        precondition(
            file.metadata["format"] == "comcl-twin-fixture" && file.metadata["version"] == "2", "unexpected fixture \(file.metadata)")
        return file
    }()
    nonisolated(unsafe) static let settings = try! JSONSerialization.jsonObject(with: Data(fixture.metadata["run"]!.utf8)) as! [String: Any]
    static let steps = settings["steps"] as! Int

    /// The run, made once for the suite: its metrics lines and final weights.
    nonisolated(unsafe) static let run: (records: [[String: Any]], weights: SafeTensors) = {
        let folder = TrainingIntegrationTests.folder("twin")
        let data = TrainingIntegrationTests.data
        let child = try! ChildProcess(
            "comcl",
            [
                "train", "--labels", data.appendingPathComponent("labels16.csv").path, "--images",
                data.appendingPathComponent("images").path,
                "--run-folder", folder.path, "--base-port", "6760", "--steps", "\(steps)", "--batch", "\(settings["batch"]!)",
                "--bn-group", "\(settings["bn_group"]!)", "--width", "\(settings["width"]!)", "--recipe", "\(settings["recipe"]!)",
                "--seed", "\(settings["seed"]!)", "--lr-warmup-steps", "\(settings["warmup"]!)", "--embedding-workers", "2",
                "--worker-threads", "1",
                "--checkpoint-every", "\(steps)", "--detector", "boxes:" + data.appendingPathComponent("lesions.csv").path,
            ])
        precondition(child.wait(timeout: 900) == 0, child.output)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = try! String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        let records = text.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let weights = try! SafeTensors(
            contentsOf: folder.appendingPathComponent(String(format: "checkpoints/step-%06d/model.safetensors", steps)))
        return (records, weights)
    }()

    static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-12) }

    @Test func theTwinTrainedOnTheseViews() throws {
        let digests = try JSONSerialization.jsonObject(with: Data(Self.fixture.metadata["digests"]!.utf8)) as! [String]
        let ours = Self.run.records.map { $0["items"] as! String }
        // A change to the cropper, the augmenter or the planner changes the views: regenerate the
        // fixture (its script says how) after checking the change is meant.
        #expect(ours == digests, "the views differ from those the twin trained on")
    }

    /// Free-running, float32 against float64 agree until Adam's near-sign first updates amplify
    /// rounding (the fixture script's docstring): the first three steps, to 1e-4.
    @Test func theFirstStepsAgreeFreeRunning() throws {
        let free = try Self.fixture.floats("free_losses")
        for step in 0..<3 {
            let ours = Self.run.records[step]["loss"] as! Double
            #expect(Self.relative(ours, Double(free[step])) < 1e-4, "step \(step + 1): ours \(ours), twin \(free[step])")
        }
    }

    /// Synced on our checkpoint before each step, every step's loss to 1e-5 and the last step's
    /// weights to 1e-5 of each tensor's scale (measured: 5e-7). Our trajectory repeats bit for
    /// bit only on the instruction set oneDNN ran on when the fixture was made (other kernels
    /// round differently, and Adam amplifies it), so elsewhere this is skipped, never loosened.
    @Test(.enabled(if: EngineInfo.isa == fixture.metadata["isa"], "oneDNN dispatches to another ISA than the fixture's"))
    func everyStepAgreesSynced() throws {
        let synced = try Self.fixture.floats("synced_losses")
        for step in 0..<Self.steps {
            let ours = Self.run.records[step]["loss"] as! Double
            #expect(Self.relative(ours, Double(synced[step])) < 1e-5, "step \(step + 1): ours \(ours), twin \(synced[step])")
        }
        var worst = (name: "", relative: 0.0)
        for name in Self.fixture.names where name.hasPrefix("final.") {
            let (twin, ours) = (try Self.fixture.floats(name), try Self.run.weights.floats(String(name.dropFirst(6))))
            let scale = twin.map { Double(abs($0)) }.max() ?? 0
            let diff = zip(twin, ours).map { Double(abs($0 - $1)) }.max() ?? 0
            if diff / max(scale, 1e-12) > worst.relative { worst = (name, diff / max(scale, 1e-12)) }
        }
        #expect(worst.relative < 1e-5, "largest relative difference \(worst.relative) in \(worst.name)")
    }
}
