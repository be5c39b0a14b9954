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
        _ weights: WeightUpdate?, version: UInt64 = 0, rows: Int = 2, model: String = TrainingConfig.modelName(model)
    ) throws -> Body {
        let id = ShardID(run: "r", step: 0, attempt: 0, shard: 0, phase: .forward).workID
        let tensor = try Tensor(float32: [Float](repeating: 0.5, count: rows * 3 * 32 * 32), shape: [rows, 3, 32, 32])
        return try replica.handle(
            .embeddingBatch(
                EmbeddingBatch(
                    id: id, tensor: tensor, samples: (0..<UInt64(rows)).map { $0 }, weightsVersion: version, batchNormGroup: 1,
                    weights: weights, model: model)))
    }

    func message(_ body: () throws -> Body) -> String {
        do { _ = try body(); return "" } catch { return "\(error)" }
    }

    @Test func stateMustMatchTheModel() throws {
        var update = master.update
        update.checksum ^= 1
        #expect(message { try forward(update) }.contains("checksum"))
        var short = master.update
        short.tensors.removeLast()
        #expect(message { try forward(short) }.contains("lacks fc.2.bias"))
        let other = MasterModel(.contrastive(arch: .resnet18, width: 0.125), seed: 1, learningRate: 1e-3, weightDecay: 0)
        #expect(message { try forward(other.update) }.contains("has shape"))
        // Still serves a good request afterwards.
        guard case .embeddingBatch(let reply) = try forward(master.update) else { Issue.record("no embeddings"); return }
        #expect(reply.weightsChecksum == master.checksum)
    }

    @Test func aStaleReplicaAsksForState() throws {
        #expect(message { try forward(nil, version: 3) }.contains("needs weights version 3"))
        #expect(message { try forward(master.update, model: "resnet99:1") }.contains("expected <arch>:<width>"))
    }

    @Test func backwardNeedsItsForward() throws {
        _ = try forward(master.update)
        let other = ShardID(run: "r", step: 0, attempt: 1, shard: 0, phase: .backward).workID
        let dz = try Tensor(float32: [Float](repeating: 0, count: 2 * 128), shape: [2, 128])
        let request = Gradients(id: other, tensors: [NamedTensor(name: "embedding", tensor: dz)], weightsVersion: 0, samples: 2)
        #expect(message { try replica.handle(.gradients(request)) }.contains("no activations"))
        let right = ShardID(run: "r", step: 0, attempt: 0, shard: 0, phase: .backward).workID
        let wrongShape = Gradients(
            id: right, tensors: [NamedTensor(name: "embedding", tensor: try Tensor(float32: [0, 0], shape: [2, 1]))], weightsVersion: 0,
            samples: 2)
        #expect(message { try replica.handle(.gradients(wrongShape)) }.contains("expected one tensor"))
        var good = request
        good.id = right
        guard case .gradients(let reply) = try replica.handle(.gradients(good)) else { Issue.record("no gradients"); return }
        #expect(reply.tensors.contains { $0.name == "bn.0.mean" && $0.tensor.shape == [2, 4] })
        // A backward consumes the activations.
        #expect(message { try replica.handle(.gradients(good)) }.contains("no activations"))
    }
}
