import Encoder
import Foundation
import Wire

/// The coordinator's copy of the model (docs/training.md). The replicas take every step
/// themselves (`ReplicaUpdate`); the coordinator tracks the version and checksum they agree on,
/// and holds the whole state (weights, running statistics, Adam's) only where it needs it: at the
/// start (fresh, or a checkpoint), and for a checkpoint or a worker that joins mid-run, loaded
/// then from a replica that is up to date.
public final class MasterModel {
    public let model: EncoderModel
    public private(set) var optimizer: Adam
    /// Steps the replicas have applied; their weights version.
    public private(set) var version: UInt64 = 0
    /// The checksum of the replicas' state at `version`.
    public private(set) var checksum: UInt64
    /// The version `model` and `optimizer` hold.
    public private(set) var heldVersion: UInt64 = 0
    private var published: ReplicaState?

    public init(_ config: ModelConfig, seed: UInt64, learningRate: Float, weightDecay: Float) {
        model = EncoderModel(config, seed: seed)
        optimizer = Adam(model.parameters.map(\.parameter), learningRate: learningRate, weightDecay: weightDecay, decay: .l2)
        checksum = StateTensors.checksum(model)
    }

    /// Whether `model` holds the replicas' current state (else `load` one from a replica first).
    public var holdsCurrent: Bool { heldVersion == version }

    /// After loading a checkpoint: its step is the version.
    public func restored(version: UInt64) {
        (self.version, heldVersion) = (version, version)
        checksum = StateTensors.checksum(model)
        published = nil
    }

    /// The replicas took a step: the state is now `version` with `checksum` (the model here is
    /// behind until a replica's state is loaded).
    public func advanced(to version: UInt64, checksum: UInt64) {
        precondition(version == self.version + 1, "version \(self.version) cannot advance to \(version)")
        (self.version, self.checksum) = (version, checksum)
    }

    /// Every replica was lost: the run goes back to the state held here (its steps since are
    /// taken again). Returns the version it was at.
    public func rewind() -> UInt64 {
        let lost = version
        version = heldVersion
        checksum = StateTensors.checksum(model)
        return lost
    }

    /// The state a replica loads before the next forward (the model must hold the current one).
    public var state: ReplicaState {
        precondition(holdsCurrent, "the coordinator holds version \(heldVersion), the replicas are at \(version)")
        if let published, published.version == version { return published }
        let state = StateTensors.state(model, optimizer: optimizer, version: version, checksum: checksum)
        published = state
        return state
    }

    /// Loads a replica's state, which must be the current version with the agreed checksum.
    public func load(_ state: ReplicaState, from worker: String) throws(TrainingError) {
        guard state.version == version, state.checksum == checksum else {
            throw .badInput(
                "replica \(worker) sent state v\(state.version) \(StateTensors.hex(state.checksum)); the replicas agreed on v\(version) \(StateTensors.hex(checksum))"
            )
        }
        try StateTensors.load(state, into: model)
        optimizer = try StateTensors.optimizer(state, for: model)
        heldVersion = version
        published = state
    }

    /// The relayed sum: the shards' gradients added in shard (= group) order from zeros, with every
    /// shard's batch-norm statistics concatenated in that order, for replicas that take it as a
    /// `GradientPart`. Every reply is checked before anything is summed.
    public func sum(_ shards: [ParameterGradients]) throws(TrainingError) -> (values: [Float], batchNorm: [BatchNormStatistics]) {
        var byName: [[String: Tensor]] = []
        for shard in shards {
            guard shard.weightsVersion == version else {
                throw .badInput("gradients of \(shard.id) are for version \(shard.weightsVersion); the model is at \(version)")
            }
            let tensors = Dictionary(shard.gradients.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            for (name, p) in model.parameters where tensors[name]?.shape != p.shape {
                throw .badInput(
                    "gradients of \(shard.id): \(name) is \(tensors[name].map { "\($0.shape)" } ?? "missing"), expected \(p.shape)")
            }
            try ReplicaUpdate.check(shard.batchNorm, of: "gradients of \(shard.id)", model: model)
            byName.append(tensors)
        }
        var values = [Float](repeating: 0, count: ReplicaUpdate.length(model))
        var offset = 0
        for (name, p) in model.parameters {
            var part = [Float](repeating: 0, count: p.count)
            for tensors in byName { ReplicaUpdate.add(tensors[name]!, into: &part) }
            values.replaceSubrange(offset..<offset + p.count, with: part)
            offset += p.count
        }
        let channels = model.backbone.batchNormChannels
        let batchNorm = ReplicaUpdate.groups(shards.map(\.batchNorm), layers: channels.count).enumerated().map { layer, s in
            let shape = [s.mean.count / channels[layer], channels[layer]]
            return BatchNormStatistics(
                layer: layer, mean: try! Tensor(float32: s.mean, shape: shape), variance: try! Tensor(float32: s.variance, shape: shape))
        }
        return (values, batchNorm)
    }
}
