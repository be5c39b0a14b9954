import Encoder
import Transport
import Wire

/// One embedding worker's model replica and its side of the step protocol (docs/training.md):
/// `ForwardRequest` in (with the state to load first when ours is older) -> forward, keeping the
/// activations -> `Embeddings` out; `BackwardRequest` in for that same shard -> backward ->
/// `ParameterGradients` (with the batch-norm groups' statistics) out. Input buffers are reused.
/// The model is built from the requests' "<arch>:<width>", so a worker needs no model flags.
/// Unchecked Sendable: a worker session calls it from its one compute thread only.
public final class EmbeddingReplica: @unchecked Sendable {
    public private(set) var model: EncoderModel
    public private(set) var modelName: String
    public private(set) var version: UInt64?
    public private(set) var checksum: UInt64 = 0
    /// The shard whose activations the model holds (the last forward), and its row count.
    private var held: (id: ShardID, rows: Int)?
    private var input: Tensor4?
    private let fetch: ViewFetch?

    /// Fetches the views kept at augmenters' data endpoints (the ids wanted from each); throws a
    /// `WorkError` naming the endpoint that failed (`DataClient`). Nil: inline views only.
    public typealias ViewFetch = (_ wanted: [String: [WorkID]]) throws -> [WorkID: ViewPair]

    public init(_ config: ModelConfig = TrainingConfig().model, fetch: ViewFetch? = nil) {
        model = EncoderModel(config)
        modelName = TrainingConfig.modelName(config)
        model.training = true
        self.fetch = fetch
    }

    /// Answers one request of the embedding link.
    public func handle(_ body: Body) throws(TrainingError) -> Body {
        switch body {
        case .forwardRequest(let request): return .embeddings(try forward(request))
        case .backwardRequest(let request): return .parameterGradients(try backward(request))
        default: throw .badInput("an embedding worker answers ForwardRequest and BackwardRequest, not \(body.kind)")
        }
    }

    func forward(_ batch: ForwardRequest) throws(TrainingError) -> Embeddings {
        let started = clock.now()
        guard let id = ShardID(batch.id), id.phase == .forward else { throw .badInput("\(batch.id) is not a forward shard id") }
        if batch.model != modelName {
            model = EncoderModel(try TrainingConfig.model(named: batch.model))
            (modelName, version, held, input) = (batch.model, nil, nil, nil)
        }
        if let update = batch.state, update.version != version {
            held = nil
            try StateTensors.load(update, into: model)
            (version, checksum) = (update.version, update.checksum)
        }
        guard version == batch.weightsVersion else {
            throw .unavailable(
                "shard \(id) needs weights version \(batch.weightsVersion); this replica holds \(version.map(String.init) ?? "none") and the request carries no state"
            )
        }
        let x = try inputs(batch, id: id)
        model.backbone.batchNormGroupSize = batch.batchNormGroup
        let z = model.forward(x)
        held = (id, x.shape.n)
        return Embeddings(
            id: batch.id, embeddings: StateTensors.tensor(z.pointer, shape: [z.rows, z.cols]), samples: batch.samples,
            weightsVersion: batch.weightsVersion, weightsChecksum: checksum, computeSeconds: seconds(since: started))
    }

    func backward(_ request: BackwardRequest) throws(TrainingError) -> ParameterGradients {
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
        return ParameterGradients(
            id: request.id, gradients: StateTensors.gradients(model), batchNorm: StateTensors.batchNormStatistics(model),
            weightsVersion: request.weightsVersion, samples: held.rows, computeSeconds: seconds(since: started))
    }

    /// The shard's views, fetched where they are kept, laid out block by block (G first views,
    /// then the same G patches' second views) in our channels-last input, into a buffer kept
    /// between steps.
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
        let group = batch.batchNormGroup == 0 ? pairs.count : batch.batchNormGroup
        let layout = Shape4(n: rows, h: shape[1], w: shape[2], c: 3)
        let x = Tensor4(shape: layout, buffer: input?.buffer ?? FloatBuffer(count: layout.count))
        input = x
        var row = 0
        for block in stride(from: 0, to: pairs.count, by: group) {
            for view in [\(first: Tensor, second: Tensor).first, \.second] {
                for pair in pairs[block..<min(block + group, pairs.count)] {
                    pair[keyPath: view].data.withUnsafeBytes { x.setChannelsFirst(sample: row, $0.bindMemory(to: Float.self)) }
                    row += 1
                }
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
