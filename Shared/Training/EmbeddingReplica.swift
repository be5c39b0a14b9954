import Encoder
import Transport
import Wire

/// One embedding worker's model replica and its side of the step protocol (docs/training.md):
/// `ForwardRequest` in (with the state to load first when ours is older) -> forward, keeping the
/// activations -> `Embeddings` out; `BackwardRequest` in for that same shard -> backward -> the
/// step's gradient summed with the other workers' (`GradientPeers`: each sums one slice and
/// hands it to the rest) -> the same Adam step on every replica -> `StepApplied` out. Without
/// peers' endpoints the request is relayed: `ParameterGradients` out, the coordinator's sum in
/// as a `GradientPart`, `StepApplied` out. A `StateRequest` gets the whole state (for a
/// checkpoint, or a worker that joins). Input buffers are reused. The model is built from the
/// requests' "<arch>:<width>", so a worker needs no model flags.
/// Unchecked Sendable: a worker session calls it from its one compute thread only.
public final class EmbeddingReplica: @unchecked Sendable {
    public private(set) var model: EncoderModel
    public private(set) var modelName: String
    public private(set) var version: UInt64?
    public private(set) var checksum: UInt64 = 0
    private var optimizer: Adam?
    private var running = RunningStatistics()
    /// The shard whose activations the model holds (the last forward), and its row count.
    private var held: (id: ShardID, rows: Int)?
    /// A relayed backward's shard, waiting for the coordinator's sum, and its learning rate.
    private var relayed: (id: ShardID, rows: Int, learningRate: Double, started: Double)?
    private var input: Tensor4?
    private let fetch: ViewFetch?
    private let peers: GradientPeers?

    /// Fetches the views kept at augmenters' data endpoints (the ids wanted from each); throws a
    /// `WorkError` naming the endpoint that failed (`DataClient`). Nil: inline views only.
    public typealias ViewFetch = (_ wanted: [String: [WorkID]]) throws -> [WorkID: ViewPair]

    /// `peers`: this worker's inbox and pusher for summing with the other workers; nil: relayed only.
    public init(_ config: ModelConfig = TrainingConfig().model, fetch: ViewFetch? = nil, peers: GradientPeers? = nil) {
        model = EncoderModel(config)
        modelName = TrainingConfig.modelName(config)
        model.training = true
        (self.fetch, self.peers) = (fetch, peers)
    }

    /// Answers one request of the embedding link.
    public func handle(_ body: Body) throws(TrainingError) -> Body {
        switch body {
        case .forwardRequest(let request): return .embeddings(try forward(request))
        case .backwardRequest(let request): return try backward(request)
        case .gradientPart(let sum): return .stepApplied(try applyRelayed(sum))
        case .stateRequest(let request): return .stateReply(try state(request))
        default:
            throw .badInput(
                "an embedding worker answers ForwardRequest, BackwardRequest, GradientPart and StateRequest, not \(body.kind)")
        }
    }

    func forward(_ batch: ForwardRequest) throws(TrainingError) -> Embeddings {
        let started = clock.now()
        guard let id = ShardID(batch.id), id.phase == .forward else { throw .badInput("\(batch.id) is not a forward shard id") }
        if batch.model != modelName {
            model = EncoderModel(try TrainingConfig.model(named: batch.model))
            (modelName, version, held, relayed, input, optimizer, running) = (batch.model, nil, nil, nil, nil, nil, RunningStatistics())
        }
        (held, relayed) = (nil, nil)
        if let update = batch.state, update.version != version {
            version = nil  // a state that fails to load leaves no version behind
            try StateTensors.load(update, into: model)
            optimizer = try StateTensors.optimizer(update, for: model)
            running.save(model)
            (version, checksum) = (update.version, update.checksum)
        }
        guard version == batch.weightsVersion else {
            throw .unavailable(
                "shard \(id) needs weights version \(batch.weightsVersion); this replica holds \(version.map(String.init) ?? "none") and the request carries no state"
            )
        }
        let x = try inputs(batch, id: id)
        running.restore(model)  // an earlier attempt's forward moved them
        model.backbone.batchNormGroupSize = batch.batchNormGroup
        let z = model.forward(x)
        held = (id, x.shape.n)
        return Embeddings(
            id: batch.id, embeddings: StateTensors.tensor(z.pointer, shape: [z.rows, z.cols]), samples: batch.samples,
            weightsVersion: batch.weightsVersion, weightsChecksum: checksum, computeSeconds: seconds(since: started))
    }

    /// The backward of the shard last embedded, then the step: summed with the peers, or relayed.
    func backward(_ request: BackwardRequest) throws(TrainingError) -> Body {
        let started = clock.now()
        guard let id = ShardID(request.id), id.phase == .backward else { throw .badInput("\(request.id) is not a backward shard id") }
        guard let held, held.id == id.with(.forward), version == request.weightsVersion else {
            throw .unavailable("no activations for \(id) (this replica last ran \(held.map { "\($0.id)" } ?? "nothing"))")
        }
        let dz = request.embeddingGradient
        guard dz.shape == [held.rows, model.outputDimension] else {
            throw .badInput("\(id): expected dL/d(embedding) of [\(held.rows), \(model.outputDimension)], got \(dz.shape)")
        }
        self.held = nil  // a backward consumes the activations
        model.zeroGrad()
        let d = Matrix(rows: dz.shape[0], cols: dz.shape[1])
        StateTensors.copy(dz, into: d.pointer)
        model.backward(d)
        let statistics = StateTensors.batchNormStatistics(model)
        guard !request.peers.isEmpty else {
            relayed = (id, held.rows, request.learningRate, started)
            return .parameterGradients(
                ParameterGradients(
                    id: request.id, gradients: StateTensors.gradients(model), batchNorm: statistics,
                    weightsVersion: request.weightsVersion, samples: held.rows, computeSeconds: seconds(since: started)))
        }
        // A peer's shard is the same size on a like machine: one not heard of in 4x our backward
        // (at least 10 s) is gone, and the coordinator decides what the step becomes.
        let timeout = max(10, 4 * seconds(since: started))
        // One shard: the gradients are already the sum.
        var (sum, shards, waited): ([Float]?, [[BatchNormStatistics]], Double) = (nil, [statistics], 0)
        if request.peers.count > 1 {
            guard let peers else {
                throw .badInput("\(id): summing with \(request.peers.count - 1) peers, and this replica has no data endpoint")
            }
            (sum, shards, waited) = try peers.sum(
                ReplicaUpdate.flatten(model), statistics: statistics, id: id, endpoints: request.peers, timeout: timeout)
        }
        try take(sum: sum, statistics: shards, learningRate: request.learningRate)
        return .stepApplied(
            StepApplied(
                id: request.id, weightsVersion: version!, weightsChecksum: checksum, samples: held.rows,
                computeSeconds: seconds(since: started) - waited, exchangeSeconds: waited))
    }

    /// A relayed shard's step: the coordinator's sum of every shard's gradient.
    func applyRelayed(_ sum: GradientPart) throws(TrainingError) -> StepApplied {
        let started = clock.now()
        guard let id = ShardID(sum.id), id.phase == .apply, sum.sum, sum.offset == 0 else {
            throw .badInput("\(sum.id) is not a relayed sum of a whole gradient")
        }
        guard let relayed, relayed.id == id.with(.backward) else {
            throw .unavailable("no relayed backward for \(id) (this replica last sent \(self.relayed.map { "\($0.id)" } ?? "nothing"))")
        }
        self.relayed = nil
        try take(sum: sum.values.floats()!, statistics: [sum.batchNorm], learningRate: relayed.learningRate)
        return StepApplied(
            id: sum.id, weightsVersion: version!, weightsChecksum: checksum, samples: relayed.rows,
            computeSeconds: seconds(since: started), exchangeSeconds: started - relayed.started)
    }

    /// Takes the step from the summed gradient: the next version.
    private func take(sum: [Float]?, statistics: [[BatchNormStatistics]], learningRate: Double) throws(TrainingError) {
        guard let optimizer, let current = version else { throw .unavailable("this replica holds no state to step") }
        running.restore(model)
        version = nil  // a step that fails halfway leaves no version behind
        try ReplicaUpdate.apply(sum: sum, statistics: statistics, to: model, optimizer: optimizer, learningRate: learningRate)
        running.save(model)
        (version, checksum) = (current + 1, StateTensors.checksum(model))
    }

    /// The whole state, as of this replica's version (for a checkpoint or a worker that joins).
    func state(_ request: StateRequest) throws(TrainingError) -> StateReply {
        guard let version, let optimizer else { throw .unavailable("this replica holds no state yet") }
        running.restore(model)
        return StateReply(id: request.id, state: StateTensors.state(model, optimizer: optimizer, version: version, checksum: checksum))
    }

    /// The shard's views, fetched where they are kept, laid out as `Sharding.layout` says (block
    /// by block: G first views, then the same G patches' second views) in our channels-last input,
    /// into a buffer kept between steps.
    private func inputs(_ batch: ForwardRequest, id: ShardID) throws(TrainingError) -> Tensor4 {
        var views: [WorkID: (first: Tensor, second: Tensor)] = [:]
        var stored: [String: [WorkID]] = [:]
        for source in batch.sources {
            switch source.place {
            case .inline(let first, let second): views[source.id] = (first, second)
            case .stored(let endpoint): stored[endpoint, default: []].append(source.id)
            }
        }
        if !stored.isEmpty {
            guard let fetch else { throw .badInput("shard \(id): views kept at data endpoints, and this replica cannot fetch") }
            do {
                for (item, pair) in try fetch(stored) { views[item] = (pair.first, pair.second) }
            } catch {
                throw .dataUnavailable(endpoint: (error as? WorkError)?.dataEndpoint ?? "", "shard \(id): \(error)")
            }
        }
        let pairs = try batch.sources.map { source throws(TrainingError) in
            guard let pair = views[source.id] else { throw .badInput("shard \(id): no views for \(source.id)") }
            return pair
        }
        guard let shape = pairs.first?.first.shape, shape.count == 3, shape[0] == 3, shape[1] >= 32, shape[2] >= 32,
            pairs.allSatisfy({
                $0.first.shape == shape && $0.second.shape == shape && $0.first.dtype == .float32 && $0.second.dtype == .float32
            })
        else {
            throw .badInput(
                "shard \(id): views must be float32 [3, H, W] of one size with H, W >= 32, got \(pairs.first.map { "\($0.first.shape)" } ?? "none")"
            )
        }
        let rows = 2 * pairs.count
        let layout = Shape4(n: rows, h: shape[1], w: shape[2], c: 3)
        let x = Tensor4(shape: layout, buffer: input?.buffer ?? FloatBuffer(count: layout.count))
        input = x
        for (row, place) in Sharding.layout(count: pairs.count, group: batch.batchNormGroup).enumerated() {
            let pair = pairs[place.patch]
            (place.second ? pair.second : pair.first).data.withUnsafeBytes {
                x.setChannelsFirst(sample: row, $0.bindMemory(to: Float.self))
            }
        }
        return x
    }
}

extension TrainingError: WorkError {
    public var code: ErrorCode {
        switch self {
        case .badInput, .config: .badInput
        case .unavailable, .dataUnavailable: .unavailable
        }
    }

    public var dataEndpoint: String {
        if case .dataUnavailable(let endpoint, _) = self { endpoint } else { "" }
    }
}
