import Foundation
import Testing
import TestSupport

/// The careless-user probes of `comcl train` with real processes (README, Reliability): workers
/// killed under the launcher, a second run and a stranger worker on the same ports, commands
/// refused before they write anything. The disturbed runs must end bit-identical to an
/// undisturbed one (same per-step batch digests, same weights).
@Suite(.serialized) struct LauncherReliabilityTests {
    /// Every lesion patch a random crop (no box scores above 1): the run must say so.
    static let options = ["--detector-conf", "1"]
    static let steps = 7

    /// The undisturbed run, made once for the suite.
    static let reference: URL = {
        let run = TrainingIntegrationTests.folder("reliability-reference")
        let child = try! TrainingIntegrationTests.train(run, port: 6600, steps: steps, extra: options)
        precondition(child.wait(timeout: 400) == 0, child.output)
        return run
    }()

    /// Per-step batch digests and the final weights' checksum of a run.
    static func trace(_ run: URL) throws -> (digests: [String], checksum: String) {
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        var digests: [Int: String] = [:]
        var checksum = ""
        for line in lines {
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            digests[record["step"] as! Int] = record["items"] as? String
            checksum = record["checksum"] as! String
        }
        return ((0..<digests.count).map { digests[$0] ?? "" }, checksum)
    }

    static func waitForSteps(_ run: URL, _ count: Int, while child: ChildProcess) {
        let deadline = Date().addingTimeInterval(240)
        while (try? TrainingIntegrationTests.losses(run).count) ?? 0 < count, Date() < deadline, child.process.isRunning { usleep(100_000) }
    }

    @Test func killedWorkersAreRestartedAndTheRunEndsBitIdentical() throws {
        let reference = try Self.trace(Self.reference)
        let run = TrainingIntegrationTests.folder("reliability-killed")
        defer { try? FileManager.default.removeItem(at: run) }
        // No checkpoint before the end: the coordinator's copy of the model stays at step 0, so
        // losing both replicas at once means taking the steps since again.
        let child = try TrainingIntegrationTests.train(
            run, port: 6610, steps: Self.steps, extra: Self.options + ["--checkpoint-every", "\(Self.steps)"])
        Self.waitForSteps(run, 2, while: child)
        // Both embedding workers and an augmenter of this run, SIGKILL: no goodbye.
        for pattern in ["comcl-embedding-worker.*:6613", "comcl-augmenter.*:6612 --worker-id augmenter-1"] {
            let pkill = try ChildProcess(executable: URL(fileURLWithPath: "/usr/bin/pkill"), ["-9", "-f", pattern], name: "pkill")
            #expect(pkill.wait(timeout: 10) == 0, "nothing matched \(pattern)")
        }
        try #require(child.wait(timeout: 400) == 0, "\(child.output)")
        #expect(child.output.contains("embedding-worker-1 was killed by signal 9; restarting it (1 of 3)"), "\(child.output)")
        #expect(child.output.contains("augmenter-1 was killed by signal 9; restarting it"))
        let log = try String(contentsOf: run.appendingPathComponent("logs/coordinator.log"), encoding: .utf8)
        #expect(log.contains("going on from the coordinator's copy at step 0"), "no rewind in \(log.suffix(3000))")
        let trace = try Self.trace(run)
        #expect(trace.digests == reference.digests)
        #expect(trace.checksum == reference.checksum)
        // What the run worked around is said: no detection above the confidence.
        #expect(child.output.contains("% of the lesion patches so far are random crops"))
        #expect(child.output.contains("lesion patches 0/"))
    }

    /// The run waits for a second embedding worker from outside, so it is certainly up (ports
    /// bound, nothing trained) while the intruders try; then our own worker joins as that second
    /// one. (Waiting for step 1 instead raced the run's end: 7 steps take under a second now.)
    @Test func aSecondRunAndAStrangerWorkerOnTheSamePortsCannotMix() throws {
        let reference = try Self.trace(Self.reference)
        let (run, second) = (TrainingIntegrationTests.folder("reliability-first"), TrainingIntegrationTests.folder("reliability-second"))
        defer { for folder in [run, second] { try? FileManager.default.removeItem(at: folder) } }
        let child = try TrainingIntegrationTests.train(
            run, port: 6620, steps: Self.steps, workers: 1, extra: Self.options + ["--external-workers", "1"])
        // A failure before the worker joins would leave the run waiting: SIGTERM stops it and its services.
        defer { if child.process.isRunning { child.signal(SIGTERM) } }
        let link = try #require(TrainingIntegrationTests.externalWorkerLink(of: child), "\(child.output)")

        // A worker started for another run that reaches this run's link is refused, and stops
        // (first: its refusal shows the coordinator has bound its ports).
        let stranger = try ChildProcess(
            "comcl-augmenter", ["--coordinator", "tcp://127.0.0.1:6622", "--worker-id", "stranger", "--run-token", "another-run"])
        #expect(stranger.wait(timeout: 30) == 1)
        #expect(stranger.output.contains("the coordinator refused this worker"), "\(stranger.output)")

        // Another `comcl train` on the same ports is refused before it starts or writes anything.
        let intruder = try TrainingIntegrationTests.train(second, port: 6620, steps: Self.steps, extra: Self.options)
        #expect(intruder.wait(timeout: 60) != 0)
        #expect(intruder.output.contains("is in use") && intruder.output.contains("--base-port"), "\(intruder.output)")
        #expect(!FileManager.default.fileExists(atPath: second.path))

        // The worker the run waits for, with this run's token: the run goes on as if undisturbed.
        let worker = try ChildProcess(
            "comcl-embedding-worker",
            ["--coordinator", link.endpoint, "--run-token", link.token, "--worker-id", "embedding-worker-2", "--threads", "1"])
        defer { if worker.process.isRunning { worker.signal(SIGKILL) } }
        try #require(child.wait(timeout: 400) == 0, "\(child.output)")
        #expect(worker.wait(timeout: 20) == 0, "\(worker.output)")
        let log = try String(contentsOf: run.appendingPathComponent("logs/coordinator.log"), encoding: .utf8)
        #expect(log.contains("refused a message from stranger"))
        let trace = try Self.trace(run)
        #expect(trace.digests == reference.digests)
        #expect(trace.checksum == reference.checksum)
    }

    @Test func refusedCommandsWriteNothing() throws {
        let run = TrainingIntegrationTests.folder("reliability-refused")
        defer { try? FileManager.default.removeItem(at: run) }
        // --resume with nothing to resume: one sentence, no folder made.
        let empty = try TrainingIntegrationTests.train(run, port: 6630, steps: 3, extra: ["--resume"])
        #expect(empty.wait(timeout: 60) == 1)
        #expect(empty.output.contains("has no checkpoint to continue; start the run without --resume"), "\(empty.output)")
        #expect(!FileManager.default.fileExists(atPath: run.path))

        // A run folder that holds a run: refused, and its config.json is left as it was.
        let first = try TrainingIntegrationTests.train(run, port: 6630, steps: 3)
        try #require(first.wait(timeout: 300) == 0, "\(first.output)")
        let config = try Data(contentsOf: run.appendingPathComponent("config.json"))
        let metrics = try Data(contentsOf: run.appendingPathComponent("metrics.jsonl"))
        let again = try TrainingIntegrationTests.train(run, port: 6630, steps: 5, extra: ["--seed", "12"])
        #expect(again.wait(timeout: 60) == 1)
        #expect(again.output.contains("holds an earlier run's checkpoints"))
        // A resume with other options is refused up front too.
        let other = try TrainingIntegrationTests.train(run, port: 6630, steps: 5, extra: ["--resume", "--tau", "0.5"])
        #expect(other.wait(timeout: 60) == 1)
        #expect(other.output.contains("was written by another configuration"))
        #expect(try Data(contentsOf: run.appendingPathComponent("config.json")) == config)
        #expect(try Data(contentsOf: run.appendingPathComponent("metrics.jsonl")) == metrics)
    }

    /// A corrupt training image is skipped (its item re-planned from another image), shown on the
    /// console and counted at the end, not only written to the coordinator's log.
    @Test func unreadableImagesAreShownAndCounted() throws {
        let (run, data) = (
            TrainingIntegrationTests.folder("reliability-corrupt"), TrainingIntegrationTests.folder("reliability-corrupt-data")
        )
        defer { for folder in [run, data] { try? FileManager.default.removeItem(at: folder) } }
        let source = TrainingIntegrationTests.data
        try FileManager.default.copyItem(at: source.appendingPathComponent("images"), to: data.appendingPathComponent("images"))
        try Data("not a png".utf8).write(to: data.appendingPathComponent("images/corrupt.png"))
        // One more lesion image (grade 2, good quality: L) that cannot be read.
        let labels = try String(contentsOf: source.appendingPathComponent("labels16.csv"), encoding: .utf8) + "99,corrupt.png,0,2\n"
        try labels.write(to: data.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        let child = try ChildProcess(
            "comcl",
            [
                "train", "--labels", data.appendingPathComponent("labels.csv").path, "--run-folder", run.path, "--base-port", "6650",
                "--steps", "3", "--batch", "16", "--bn-group", "4", "--width", "0.125", "--recipe", TrainingIntegrationTests.recipe,
                "--embedding-workers", "1", "--worker-threads", "1", "--seed", "11",
            ])
        try #require(child.wait(timeout: 300) == 0, "\(child.output)")
        #expect(child.output.contains("skipped: step") && child.output.contains("corrupt.png"), "\(child.output)")
        // Drawn in two of the three steps, skipped each time.
        #expect(child.output.contains("patches re-planned from another image: 2 unreadable or too small"), "\(child.output)")
    }

    /// A run folder under a regular file cannot be made: one sentence, before anything starts.
    @Test func unwritableRunFolderIsOneSentence() throws {
        let file = TrainingIntegrationTests.folder("reliability-file")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("x".utf8).write(to: file)
        let child = try TrainingIntegrationTests.train(file.appendingPathComponent("run"), port: 6660, steps: 3)
        #expect(child.wait(timeout: 60) == 1)
        #expect(child.output.contains("is a file, not a folder"), "\(child.output)")
    }

    @Test(arguments: [
        (["--width", "0"], "width 0.0: must be a number from 0.0625 to 4.0"),
        (["--width", "nan"], "width nan: must be"),
        (["--width", "-1"], "width -1.0: must be"),
        (["--steps", "-1"], "steps -1: must be at least 1"),
        (["--lr", "inf"], "learning rate must be positive"),
        (["--embedding-workers", "0"], "--embedding-workers plus --external-workers at least 1"),
        (["--balance", "fast"], "The value 'fast' is invalid for '--balance <balance>'"),
    ])
    func badNumbersAreOneSentenceBeforeAnythingStarts(extra: [String], message: String) throws {
        let run = TrainingIntegrationTests.folder("reliability-numbers")
        let child = try TrainingIntegrationTests.train(run, port: 6640, steps: 3, extra: extra)
        #expect(child.wait(timeout: 60) == 64)
        #expect(child.output.contains(message), "\(child.output)")
        #expect(!child.output.contains("USAGE"), "no usage banner: \(child.output)")
        #expect(!FileManager.default.fileExists(atPath: run.path))
    }
}
