import Encoder
import Testing
import Training
import Wire

/// A replica refuses what it cannot use with a specific error, and stays usable.
@Suite struct ReplicaRefusalTests {
    static let model = ModelConfig.contrastive(arch: .resnet18, width: 0.0625)
    let master = MasterModel(model, seed: 1, learningRate: 1e-3, weightDecay: 0)
    let replica = EmbeddingReplica(model)

    func forward(
        _ state: ReplicaState?, version: UInt64 = 0, rows: Int = 2, model: String = TrainingConfig.modelName(model)
    ) throws -> Body {
        let id = ShardID(run: "r", step: 0, attempt: 0, shard: 0, phase: .forward).workID
        let view = try Tensor(float32: [Float](repeating: 0.5, count: 3 * 32 * 32), shape: [3, 32, 32])
        let sources = (0..<rows / 2).map { ViewSource(id: WorkID(run: "r", step: 0, item: UInt64($0)), .inline(first: view, second: view)) }
        return try replica.handle(
            .forwardRequest(
                ForwardRequest(
                    id: id, sources: sources, samples: (0..<UInt64(rows)).map { $0 }, weightsVersion: version, batchNormGroup: 1,
                    state: state, model: model)))
    }

    func message(_ body: () throws -> Body) -> String {
        do { _ = try body(); return "" } catch { return "\(error)" }
    }

    @Test func stateMustMatchTheModel() throws {
        var update = master.state
        update.checksum ^= 1
        #expect(message { try forward(update) }.contains("checksum"))
        var short = master.state
        short.tensors.removeLast()
        #expect(message { try forward(short) }.contains("lacks fc.2.bias"))
        let other = MasterModel(.contrastive(arch: .resnet18, width: 0.125), seed: 1, learningRate: 1e-3, weightDecay: 0)
        #expect(message { try forward(other.state) }.contains("has shape"))
        // Still serves a good request afterwards.
        guard case .embeddings(let reply) = try forward(master.state) else { Issue.record("no embeddings"); return }
        #expect(reply.weightsChecksum == master.checksum)
    }

    @Test func aStaleReplicaAsksForState() throws {
        #expect(message { try forward(nil, version: 3) }.contains("needs weights version 3"))
        #expect(message { try forward(master.state, model: "resnet99:1") }.contains("expected <arch>:<width>"))
    }

    @Test func backwardNeedsItsForward() throws {
        _ = try forward(master.state)
        let other = ShardID(run: "r", step: 0, attempt: 1, shard: 0, phase: .backward).workID
        let dz = try Tensor(float32: [Float](repeating: 0, count: 2 * 128), shape: [2, 128])
        let request = BackwardRequest(id: other, embeddingGradient: dz, weightsVersion: 0)
        #expect(message { try replica.handle(.backwardRequest(request)) }.contains("no activations"))
        let right = ShardID(run: "r", step: 0, attempt: 0, shard: 0, phase: .backward).workID
        let wrongShape = BackwardRequest(id: right, embeddingGradient: try Tensor(float32: [0, 0], shape: [2, 1]), weightsVersion: 0)
        #expect(message { try replica.handle(.backwardRequest(wrongShape)) }.contains("expected dL/d(embedding) of [2, 128]"))
        var good = request
        good.id = right
        // No peers: relayed, so the gradients go to the coordinator.
        guard case .parameterGradients(let reply) = try replica.handle(.backwardRequest(good)) else { Issue.record("no gradients"); return }
        #expect(reply.batchNorm.first.map { $0.layer == 0 && $0.mean.shape == [2, 4] && $0.variance.shape == [2, 4] } == true)
        #expect(reply.gradients.contains { $0.name == "conv1.weight" })
        // A backward consumes the activations.
        #expect(message { try replica.handle(.backwardRequest(good)) }.contains("no activations"))
    }

    @Test func aRelayedSumMustBeForTheShardItSent() throws {
        let apply = ShardID(run: "r", step: 0, attempt: 0, shard: 0, phase: .apply).workID
        let sum = GradientPart(id: apply, sum: true, offset: 0, values: try Tensor(float32: [0], shape: [1]))
        #expect(message { try replica.handle(.gradientPart(sum)) }.contains("no relayed backward"))
        let peers = BackwardRequest(
            id: ShardID(run: "r", step: 0, attempt: 0, shard: 0, phase: .backward).workID,
            embeddingGradient: try Tensor(float32: [Float](repeating: 0, count: 2 * 128), shape: [2, 128]), weightsVersion: 0,
            peers: ["tcp://127.0.0.1:1", "tcp://127.0.0.1:2"])
        _ = try forward(master.state)
        #expect(message { try replica.handle(.backwardRequest(peers)) }.contains("no data endpoint"))
        #expect(message { try replica.handle(.stateRequest(StateRequest(id: apply))) }.isEmpty)
    }
}
