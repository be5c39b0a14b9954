import Basics
import Domain
import Foundation
import Logging
import Testing
@testable import Training
import Wire

@Suite struct CheckpointTests {
    static func folder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-checkpoint-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static var config: TrainingConfig {
        var c = TrainingConfig()
        (c.arch, c.width, c.batch, c.bnGroup) = (.resnet18, 0.0625, 8, 4)
        return c
    }

    @Test func roundTripsWeightsOptimizerAndStep() throws {
        let run = Self.folder()
        defer { try? FileManager.default.removeItem(at: run) }
        let trained = try DataParallelStepTests.train(workers: 1, steps: 2)
        var state = CheckpointState(step: 2, config: Self.config, checksum: String(trained.checksum, radix: 16))
        state.spl = ["k_min": 1]
        try Checkpoint.save(trained, state: state, run: run)
        let latest = try #require(try Checkpoint.latest(run))
        #expect(latest.lastPathComponent == "step-000002")
        let fresh = MasterModel(Self.config.model, seed: 77, learningRate: 1e-2, weightDecay: 1e-4)
        let loaded = try Checkpoint.load(latest, into: fresh, config: Self.config)
        #expect(loaded == state)
        #expect(fresh.checksum == trained.checksum && fresh.version == 2 && fresh.optimizer.step == 2)
        // Nothing temporary left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: Checkpoint.folder(run).path).sorted()
        #expect(names == ["latest", "step-000002"])
    }

    /// The training loop hands checkpoints to a background writer: `wait()` makes them durable
    /// and in order, and a write that fails is reported, not lost in the background.
    @Test func backgroundWriterWritesInOrderAndReportsFailures() throws {
        let run = Self.folder()
        defer { try? FileManager.default.removeItem(at: run) }
        let master = MasterModel(Self.config.model, seed: 1, learningRate: 1e-3, weightDecay: 0)
        let writer = CheckpointWriter(run: run)
        for step in [1, 2] {
            writer.submit(
                try Checkpoint.snapshot(
                    master, state: CheckpointState(step: step, config: Self.config, checksum: String(master.checksum, radix: 16))),
                logger: Logger(label: "test"))
        }
        writer.wait()
        #expect(writer.failure == nil)
        #expect(try Checkpoint.latest(run)?.lastPathComponent == "step-000002")

        // A run folder that is a plain file: the write fails and says which step.
        let blocked = run.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: blocked)
        let failing = CheckpointWriter(run: blocked)
        failing.submit(
            try Checkpoint.snapshot(master, state: CheckpointState(step: 3, config: Self.config, checksum: "")),
            logger: Logger(label: "test"))
        failing.wait()
        #expect(failing.failure?.contains("checkpoint of step 3") == true)
    }

    /// The weights checksum, word-wise FNV-1a 64, against values computed in Python (two whole
    /// words, then three tail bytes; and the empty input = the offset basis).
    @Test func checksumMatchesAnIndependentComputation() {
        var hash = FNV1a64()
        [UInt8](0..<19).withUnsafeBytes { hash.add($0) }
        #expect(hash.value == 0x8990_B145_7493_D228)
        #expect(FNV1a64().value == 0xCBF2_9CE4_8422_2325)
    }

    @Test func anotherConfigurationIsRefused() throws {
        let run = Self.folder()
        defer { try? FileManager.default.removeItem(at: run) }
        let master = MasterModel(Self.config.model, seed: 1, learningRate: 1e-3, weightDecay: 0)
        try Checkpoint.save(
            master, state: CheckpointState(step: 0, config: Self.config, checksum: String(master.checksum, radix: 16)), run: run)
        var other = Self.config
        other.tau = 0.2
        #expect(throws: TrainingError.self) { try Checkpoint.load(try Checkpoint.latest(run)!, into: master, config: other) }
        var longer = Self.config
        longer.steps += 100  // a run may be extended
        _ = try Checkpoint.load(try Checkpoint.latest(run)!, into: master, config: longer)
    }
}

/// A fresh run refuses a folder that holds an earlier run's checkpoints (a later --resume would
/// otherwise pick up the wrong weights); --resume without a checkpoint is an error too.
@Suite struct RunFolderTests {
    static let entries: [(image: String, level: Level)] = Level.allCases.flatMap { level in (0..<4).map { ("\(level)-\($0).png", level) } }

    @Test func freshRunsDoNotReuseAFolder() throws {
        let run = CheckpointTests.folder()
        defer { try? FileManager.default.removeItem(at: run) }
        let logger = Logger(label: "test")
        #expect(throws: TrainingError.self) {
            try TrainingRun(config: CheckpointTests.config, entries: Self.entries, folder: run, resume: true, logger: logger)
        }
        let master = MasterModel(CheckpointTests.config.model, seed: 0, learningRate: 1e-3, weightDecay: 0)
        try Checkpoint.save(
            master, state: CheckpointState(step: 1, config: CheckpointTests.config, checksum: String(master.checksum, radix: 16)), run: run)
        var message = ""
        do { _ = try TrainingRun(config: CheckpointTests.config, entries: Self.entries, folder: run, resume: false, logger: logger) } catch
        {
            message = "\(error)"
        }
        #expect(message.contains("earlier run's checkpoints"))
        let resumed = try TrainingRun(config: CheckpointTests.config, entries: Self.entries, folder: run, resume: true, logger: logger)
        #expect(resumed.step == 1)
    }
}
