import Contrastive
import Testing
import Training
import Wire

/// How a step ends when shards fail during the workers' sum (docs/training.md): committed if
/// any replica took it (the others are stale), taken again if none did, stopped if replicas
/// disagree. The forward runs on real replicas; the outcomes are played.
@Suite struct StepResolutionTests {
    typealias Parallel = DataParallelStepTests

    /// A step of two shards in its backward phase, and the master.
    static func backwardPhase() throws -> (TrainingStep, MasterModel) {
        let config = Parallel.config(steps: 1)
        let master = MasterModel(config.model, seed: 5, learningRate: 1e-2, weightDecay: 1e-4)
        let replicas = ["a": EmbeddingReplica(Parallel.model), "b": EmbeddingReplica(Parallel.model)]
        var work = TrainingStep(Parallel.views(step: 0), config: config, shards: 2)
        for (worker, request) in work.forward(
            on: [("a", "tcp://127.0.0.1:1"), ("b", "tcp://127.0.0.1:2")], master: master, needsState: { _ in true })
        {
            guard case .embeddings(let reply) = try replicas[worker]!.handle(.forwardRequest(request)) else {
                throw TrainingError.badInput("reply")
            }
            _ = try work.received(
                reply, shard: try #require(work.shard(of: reply.id, in: .forward)), master: master, loss: MultiLevelLoss())
        }
        #expect(work.phase == .backward)
        return (work, master)
    }

    static func applied(_ work: TrainingStep, shard: Int, checksum: UInt64 = 0xABC) -> StepApplied {
        StepApplied(
            id: ShardID(run: "t", step: 0, attempt: work.attempt, shard: shard, phase: .backward).workID, weightsVersion: 1,
            weightsChecksum: checksum, samples: 6)
    }

    @Test func oneReplicaSteppedCommitsAndTheOtherIsStale() throws {
        var (work, master) = try Self.backwardPhase()
        #expect(try work.received(Self.applied(work, shard: 0), shard: 0, master: master) == nil)
        #expect(work.failed(shard: 1) == .committed(checksum: 0xABC, stale: ["b"]))
        work.commit(to: master, checksum: 0xABC)
        #expect(master.version == 1 && master.checksum == 0xABC && !master.holdsCurrent)
    }

    @Test func noReplicaSteppedTakesTheStepAgain() throws {
        var (work, _) = try Self.backwardPhase()
        #expect(work.failed(shard: 0) == nil)
        #expect(work.failed(shard: 1) == .retry)
        work.retry()
        #expect(work.phase == .waiting && work.attempt == 1)
    }

    @Test func replicasThatDisagreeStopTheRun() throws {
        var (work, master) = try Self.backwardPhase()
        _ = try work.received(Self.applied(work, shard: 0), shard: 0, master: master)
        #expect(throws: TrainingError.self) { try work.received(Self.applied(work, shard: 1, checksum: 0xDEF), shard: 1, master: master) }
    }

    @Test func aRelayedStepWithAFailedShardIsTakenAgain() throws {
        var (work, master) = try Self.backwardPhase()
        #expect(work.failed(shard: 0) == nil)
        let gradients = ParameterGradients(
            id: ShardID(run: "t", step: 0, attempt: 0, shard: 1, phase: .backward).workID, gradients: [], batchNorm: [],
            weightsVersion: 0, samples: 6)
        guard case .resolved(.retry) = try work.received(gradients, shard: 1, master: master) else {
            Issue.record("a relayed step missing a shard must be taken again")
            return
        }
    }
}
