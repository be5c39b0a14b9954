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

    public init(_ config: ModelConfig = TrainingConfig().model) {
        model = EncoderModel(config)
        modelName = TrainingConfig.modelName(config)
        model.training = true
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
        let shape = batch.inputs.shape
        guard shape.count == 4, shape[1] == 3, shape[2] >= 32, shape[3] >= 32 else {
            throw .badInput("shard \(id): inputs must be [N, 3, H, W] with H, W >= 32, got \(shape)")
        }
        let x = nhwc(batch.inputs)
        model.backbone.batchNormGroupSize = batch.batchNormGroup
        let z = model.forward(x)
        held = (id, shape[0])
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

    /// [N, 3, H, W] float32 -> our channels-last input, into a buffer kept between steps.
    private func nhwc(_ tensor: Tensor) -> Tensor4 {
        let shape = Shape4(n: tensor.shape[0], h: tensor.shape[2], w: tensor.shape[3], c: tensor.shape[1])
        let x = Tensor4(shape: shape, buffer: input?.buffer ?? FloatBuffer(count: shape.count))
        input = x
        tensor.data.withUnsafeBytes { x.setChannelsFirst($0.bindMemory(to: Float.self)) }
        return x
    }
}

extension TrainingError: WorkError {
    public var code: ErrorCode {
        switch self {
        case .badInput, .config: .badInput
        case .unavailable: .unavailable
        }
    }
}
