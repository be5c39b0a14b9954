import Encoder
import Wire

/// The coordinator's copy of the model: it owns the optimizer. Each step it sums the shards'
/// parameter gradients in shard order (the loss is a batch mean, so the sum is the batch's
/// gradient), steps Adam, replays the batch-norm groups' statistics in group order, and
/// publishes the new state for the replicas (docs/training.md).
public final class MasterModel {
    public let model: EncoderModel
    public let optimizer: Adam
    /// Steps applied; the replicas' weights version.
    public private(set) var version: UInt64 = 0
    public private(set) var checksum: UInt64
    private var published: ReplicaState?

    public init(_ config: ModelConfig, seed: UInt64, learningRate: Float, weightDecay: Float) {
        model = EncoderModel(config, seed: seed)
        optimizer = Adam(model.parameters.map(\.parameter), learningRate: learningRate, weightDecay: weightDecay, decay: .l2)
        checksum = StateTensors.checksum(model)
    }

    /// After loading a checkpoint: its step is the version.
    public func restored(version: UInt64) {
        self.version = version
        checksum = StateTensors.checksum(model)
        published = nil
    }

    /// The state the replicas load before the next forward.
    public var state: ReplicaState {
        if let published, published.version == version { return published }
        let state = StateTensors.state(model, version: version, checksum: checksum)
        published = state
        return state
    }

    /// Applies one step from the shards' replies, in shard (= group) order. Every reply is
    /// checked before anything changes. Returns the seconds spent aggregating and in Adam.
    @discardableResult
    public func apply(_ shards: [ParameterGradients]) throws(TrainingError) -> (aggregate: Double, optimizer: Double) {
        let started = clock.now()
        let channels = model.backbone.batchNormChannels
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
            guard shard.batchNorm.count == channels.count else {
                throw .badInput(
                    "gradients of \(shard.id): statistics of \(shard.batchNorm.count) batch-norm layers, the model has \(channels.count)")
            }
            for (layer, c) in channels.enumerated() where shard.batchNorm[layer].mean.shape.last != c {
                throw .badInput(
                    "gradients of \(shard.id): batch-norm layer \(layer) statistics are \(shard.batchNorm[layer].mean.shape), expected [groups, \(c)]"
                )
            }
            byName.append(tensors)
        }
        model.zeroGrad()
        for tensors in byName {
            for (name, p) in model.parameters {
                let g = p.grad!.pointer
                tensors[name]!.data.withUnsafeBytes { raw in
                    let source = raw.bindMemory(to: Float.self)
                    for i in 0..<p.count { g[i] += source[i] }
                }
            }
        }
        let summed = clock.now()
        optimizer.update()
        let stepped = clock.now()
        let statistics = channels.indices.map { layer in
            (
                mean: shards.flatMap { $0.batchNorm[layer].mean.floats()! },
                variance: shards.flatMap { $0.batchNorm[layer].variance.floats()! }
            )
        }
        model.backbone.replayBatchNormGroupStatistics(statistics)
        version += 1
        checksum = StateTensors.checksum(model)
        return (summed - started + seconds(since: stepped), stepped - summed)
    }
}
