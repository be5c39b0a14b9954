import Foundation
import Testing
import Training

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

    @Test func anotherConfigurationIsRefused() throws {
        let run = Self.folder()
        defer { try? FileManager.default.removeItem(at: run) }
        let master = MasterModel(Self.config.model, seed: 1, learningRate: 1e-3, weightDecay: 0)
        try Checkpoint.save(master, state: CheckpointState(step: 0, config: Self.config, checksum: String(master.checksum, radix: 16)), run: run)
        var other = Self.config
        other.tau = 0.2
        #expect(throws: TrainingError.self) { try Checkpoint.load(try Checkpoint.latest(run)!, into: master, config: other) }
        var longer = Self.config
        longer.steps += 100  // a run may be extended
        _ = try Checkpoint.load(try Checkpoint.latest(run)!, into: master, config: longer)
    }
}
