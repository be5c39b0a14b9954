import Encoder
import Foundation
import TestSupport
import Testing

/// A mixed pool: one of our embedding workers and Examples/pytorch-worker (CPU PyTorch, one
/// thread) in one `comcl train` run on the 16 images of TrainingIntegrationTests, against the same
/// run with two of ours (docs/embedding-worker.md).
@Suite(.serialized, .enabled(if: TorchPython.available, "needs PyTorch: scripts/torch-venv.sh (scripts/test.sh runs it)"))
struct MixedPoolTests {
    static let steps = 6

    /// The run with two of our workers, made once for the suite.
    static let oursAlone: Result<URL, MixedPoolFailure> = {
        let run = TrainingIntegrationTests.folder("ours")
        do {
            let child = try TrainingIntegrationTests.train(run, port: 7100, steps: steps)
            guard child.wait(timeout: 300) == 0 else { return .failure(MixedPoolFailure("our pool failed:\n\(child.output)")) }
            return .success(run)
        } catch {
            return .failure(MixedPoolFailure("\(error)"))
        }
    }()

    /// The PyTorch worker joining the run `train` started, from the line the launcher prints
    /// ("... at ENDPOINT with run token TOKEN, ...").
    static func pytorchWorker(joining train: ChildProcess, name: String) throws -> ChildProcess {
        guard let link = TrainingIntegrationTests.externalWorkerLink(of: train) else {
            throw MixedPoolFailure("comcl train did not ask for the external worker:\n\(train.output)")
        }
        // --verbose: a line per request, so a test can tell when the worker holds a shard.
        return try TorchPython.pytorchWorker(
            ["--coordinator", link.endpoint, "--run-token", link.token, "--worker-id", name, "--verbose"], name: name)
    }

    /// The largest difference between two checkpoints: of a weight tensor, its root-mean-square
    /// difference in units of the farthest Adam moves a weight in the run (about the learning
    /// rate a step: lr x steps); of a running statistic, its largest difference relative to the
    /// tensor's largest value. Not the largest single weight: a weight whose gradient is at
    /// rounding-noise level takes Adam's near-full step either way, so one of them can differ by
    /// a fair part of a step (measured: one of 36,864 by 1.9e-4) while the rest agree; and not
    /// relative to a weight's own scale, unfair to batch-norm biases that start at 0.
    static func worstDifference(_ a: SafeTensors, _ b: SafeTensors) throws -> (weight: Double, statistic: Double, tensor: String) {
        var worst = (weight: 0.0, statistic: 0.0, tensor: "")
        for name in a.names where a.entries[name]!.dtype == .f32 {
            let (x, y) = (try a.floats(name), try b.floats(name))
            if name.contains("running_") {
                let diff = zip(x, y).map { Double(abs($0 - $1)) }.max() ?? 0
                let relative = diff / max(y.map { Double(abs($0)) }.max() ?? 0, 1e-12)
                if relative > worst.statistic { (worst.statistic, worst.tensor) = (relative, name) }
            } else {
                let rms = (zip(x, y).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(max(x.count, 1))).squareRoot()
                let moves = rms / (learningRate * Double(steps))
                if moves > worst.weight { (worst.weight, worst.tensor) = (moves, name) }
            }
        }
        return worst
    }

    /// TrainingIntegrationTests' constant rate (TrainingConfig's default, the paper's 1e-3).
    static let learningRate = 1e-3

    /// The mixed run against ours alone: each step's loss and the last weights. The replicas
    /// agree bit for bit every step (the coordinator would stop the run on two checksums), so the
    /// only difference is the PyTorch worker's own shard: its gradient and statistics, computed
    /// by another engine. Measured after 6 steps at 1e-3: losses within 3e-5 relative; weights
    /// within 5.2e-4 of lr x steps (1 against 2 of our workers: 7.5e-5); running statistics within
    /// 1.1e-6. The bounds: 1e-4, 1e-2 and 1e-3.
    static func expectCloseToOursAlone(_ run: URL) throws {
        let ours = try oursAlone.get()
        let (mixed, alone) = (try TrainingIntegrationTests.losses(run), try TrainingIntegrationTests.losses(ours))
        #expect(mixed.count == steps)
        for step in 0..<steps {
            let (a, b) = (try #require(mixed[step]), try #require(alone[step]))
            #expect(abs(a - b) <= 1e-4 * abs(b), "step \(step + 1): loss \(a) mixed, \(b) ours alone")
        }
        let worst = try worstDifference(
            try TrainingIntegrationTests.finalWeights(run, step: steps), try TrainingIntegrationTests.finalWeights(ours, step: steps))
        #expect(worst.weight < 1e-2 && worst.statistic < 1e-3, "largest difference \(worst)")
    }

    /// `comcl train` with one of our workers, waiting for one from outside.
    static func trainBesideAnExternalWorker(_ run: URL, port: Int) throws -> ChildProcess {
        try TrainingIntegrationTests.train(run, port: port, steps: steps, workers: 1, extra: ["--external-workers", "1"])
    }

    static func coordinatorLog(_ run: URL) throws -> String {
        try String(contentsOf: run.appendingPathComponent("logs/coordinator.log"), encoding: .utf8)
    }

    /// A run of one of ours beside a PyTorch worker ("pytorch-1") in folder `name`: `body` gets the
    /// folder, the training and the worker; the folder and the worker go when it returns.
    static func beside(_ name: String, port: Int, _ body: (URL, ChildProcess, ChildProcess) throws -> Void) throws {
        let run = TrainingIntegrationTests.folder(name)
        defer { try? FileManager.default.removeItem(at: run) }
        let train = try trainBesideAnExternalWorker(run, port: port)
        let worker = try pytorchWorker(joining: train, name: "pytorch-1")
        defer { worker.signal(SIGKILL) }
        try body(run, train, worker)
    }

    @Test func aPyTorchWorkerBesideOursEndsWithinToleranceOfOursAlone() throws {
        try Self.beside("mixed", port: 7110) { run, train, worker in
            try #require(train.wait(timeout: 400) == 0, "\(train.output)\n--- PyTorch worker:\n\(worker.output)")
            // The coordinator asks its workers to stop at the end: the PyTorch worker says goodbye and exits.
            #expect(worker.wait(timeout: 20) == 0, "\(worker.output)")
            #expect(worker.output.contains("stopped after"), "\(worker.output)")
            let log = try Self.coordinatorLog(run)
            // The first step splits evenly (no speed measured yet), in the order the workers joined.
            let split = log.split(separator: "\n").first { $0.contains("patches per worker:") } ?? ""
            #expect(split.contains("embedding-worker-1 8") && split.contains("pytorch-1 8"), "\(log)")
            try Self.expectCloseToOursAlone(run)
        }
    }

    /// SIGKILL mid-run (no goodbye: the coordinator notices the silence), then another PyTorch
    /// worker joins; the steps it was in are taken again, and the run ends as if nothing happened.
    @Test func killingThePyTorchWorkerMidStepLosesNothing() throws {
        try Self.beside("killed", port: 7120) { run, train, first in
            // Killed with a shard in hand: once step 3's forward (work id step 2) has reached it, the step cannot end
            // without its backward and its part of the sum (a step is about 0.3 s here).
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline, !first.output.contains("forward_request step 2"), train.process.isRunning { usleep(5_000) }
            first.signal(SIGKILL)
            _ = first.wait(timeout: 10)
            let second = try Self.pytorchWorker(joining: train, name: "pytorch-2")
            defer { second.signal(SIGKILL) }
            try #require(train.wait(timeout: 400) == 0, "\(train.output)\n--- second PyTorch worker:\n\(second.output)")
            let log = try Self.coordinatorLog(run)
            #expect(log.contains("left: pytorch-1"), "the coordinator should have noticed the killed worker:\n\(log)")
            // Its forward or backward is redone ("left ... before answering; redoing"), or, killed
            // during the sum, its peer misses its part ("no replica took the step; redoing").
            #expect(log.contains("redoing"), "\(log)")
            #expect(second.output.contains("stopped after"), "\(second.output)")
            try Self.expectCloseToOursAlone(run)
        }
    }
}

struct MixedPoolFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
