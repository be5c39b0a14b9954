import CProtocol

// The embedding link, one message per direction (comcl.proto): ForwardRequest -> Embeddings,
// then BackwardRequest -> StepApplied for the same shard, the workers summing their gradients
// among themselves (GradientPart); a relayed worker answers ParameterGradients and gets the sum
// as a GradientPart request. StateRequest -> StateReply fetches a replica's state. Every tensor
// is float32.

/// Coordinator -> worker: one shard's views (n patches: where to fetch them, or inline), with the
/// state to load first when the worker's is older. The worker lays the 2n views out block by
/// block: G first views, then the same G patches' second views.
public struct ForwardRequest: Equatable, Sendable {
    public var id: WorkID
    public var sources: [ViewSource]
    /// The loss row of each of the 2n inputs.
    public var samples: [UInt64]
    public var weightsVersion: UInt64
    /// Batch-norm group size G (N is a multiple of it); 0 = the whole shard is one group.
    public var batchNormGroup: Int
    public var state: ReplicaState?
    /// The encoder, "<arch>:<width>" (replicas build their model from it).
    public var model: String

    public init(
        id: WorkID, sources: [ViewSource], samples: [UInt64], weightsVersion: UInt64, batchNormGroup: Int = 0,
        state: ReplicaState? = nil, model: String = ""
    ) {
        (self.id, self.sources, self.samples, self.weightsVersion) = (id, sources, samples, weightsVersion)
        (self.batchNormGroup, self.state, self.model) = (batchNormGroup, state, model)
    }
}

extension ForwardRequest: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__ForwardRequest> {
        let c = arena.message(Comcl__V1__ForwardRequest.self, comcl__v1__forward_request__init)
        c.pointee.id = id.lower(in: arena)
        (c.pointee.n_sources, c.pointee.sources) = arena.messages(sources)
        (c.pointee.n_sample, c.pointee.sample) = (samples.count, arena.array(samples))
        c.pointee.weights_version = weightsVersion
        c.pointee.bn_group = UInt32(clamping: batchNormGroup)
        c.pointee.state = state?.lower(in: arena)
        c.pointee.model = arena.string(model)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__ForwardRequest>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        sources = try ViewSource.liftAll(p.n_sources, p.sources, field: "\(field).sources")
        samples = try liftRows(p.n_sample, p.sample, rows: 2 * sources.count, field: "\(field).sample")
        weightsVersion = p.weights_version
        batchNormGroup = Int(p.bn_group)
        guard batchNormGroup == 0 || sources.count % batchNormGroup == 0 else {
            throw WireError.invalidValue(
                field: "\(field).bn_group", reason: "\(sources.count) patches are not whole groups of \(batchNormGroup)")
        }
        state = try p.state.map { try ReplicaState(lifting: $0, field: "\(field).state") }
        model = liftString(p.model)
    }
}

/// Worker -> coordinator: a shard's embeddings [N, D], and the state that produced them.
public struct Embeddings: Equatable, Sendable {
    public var id: WorkID
    public var embeddings: Tensor
    public var samples: [UInt64]
    public var weightsVersion: UInt64
    public var weightsChecksum: UInt64
    public var computeSeconds: Double

    public init(
        id: WorkID, embeddings: Tensor, samples: [UInt64], weightsVersion: UInt64, weightsChecksum: UInt64, computeSeconds: Double = 0
    ) {
        (self.id, self.embeddings, self.samples) = (id, embeddings, samples)
        (self.weightsVersion, self.weightsChecksum, self.computeSeconds) = (weightsVersion, weightsChecksum, computeSeconds)
    }
}

extension Embeddings: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Embeddings> {
        let c = arena.message(Comcl__V1__Embeddings.self, comcl__v1__embeddings__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.embeddings = embeddings.lower(in: arena)
        (c.pointee.n_sample, c.pointee.sample) = (samples.count, arena.array(samples))
        c.pointee.weights_version = weightsVersion
        c.pointee.weights_checksum = weightsChecksum
        c.pointee.compute_s = computeSeconds
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Embeddings>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        embeddings = try Tensor.lift(p.embeddings, field: "\(field).embeddings")
        try embeddings.require(dtype: .float32, shape: [nil, nil], field: "\(field).embeddings")
        samples = try liftRows(p.n_sample, p.sample, rows: embeddings.shape[0], field: "\(field).sample")
        (weightsVersion, weightsChecksum) = (p.weights_version, p.weights_checksum)
        computeSeconds = try finiteSeconds(p.compute_s, field: "\(field).compute_s")
    }
}

/// Coordinator -> worker: dL/d(embedding) [N, D] for the shard the worker last embedded, rows
/// in the forward's order; how the step's gradient is summed (`peers`: every shard's worker's data
/// endpoint in shard order; empty: relayed through the coordinator), and Adam's rate for it.
public struct BackwardRequest: Equatable, Sendable {
    public var id: WorkID
    public var embeddingGradient: Tensor
    public var weightsVersion: UInt64
    public var peers: [String]
    public var learningRate: Double

    public init(id: WorkID, embeddingGradient: Tensor, weightsVersion: UInt64, peers: [String] = [], learningRate: Double = 0) {
        (self.id, self.embeddingGradient, self.weightsVersion) = (id, embeddingGradient, weightsVersion)
        (self.peers, self.learningRate) = (peers, learningRate)
    }
}

extension BackwardRequest: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__BackwardRequest> {
        let c = arena.message(Comcl__V1__BackwardRequest.self, comcl__v1__backward_request__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.embedding_gradient = embeddingGradient.lower(in: arena)
        c.pointee.weights_version = weightsVersion
        (c.pointee.n_peers, c.pointee.peers) = arena.strings(peers)
        c.pointee.learning_rate = learningRate
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__BackwardRequest>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        embeddingGradient = try Tensor.lift(p.embedding_gradient, field: "\(field).embedding_gradient")
        try embeddingGradient.require(dtype: .float32, shape: [nil, nil], field: "\(field).embedding_gradient")
        weightsVersion = p.weights_version
        peers = liftStrings(p.n_peers, p.peers)
        for (index, peer) in peers.enumerated() where peer.isEmpty {
            throw WireError.invalidValue(field: "\(field).peers[\(index)]", reason: "empty endpoint")
        }
        learningRate = p.learning_rate
        guard learningRate.isFinite, learningRate >= 0 else {
            throw WireError.invalidValue(field: "\(field).learning_rate", reason: "\(learningRate) is not a learning rate")
        }
    }
}

/// Worker -> coordinator: the replica took the step; its state is now `weightsVersion`, whose
/// checksum every replica of the step must agree on.
public struct StepApplied: Equatable, Sendable {
    public var id: WorkID
    public var weightsVersion: UInt64
    public var weightsChecksum: UInt64
    public var samples: Int
    /// Seconds computing (backward, the worker's share of the sums, Adam) and waiting for peers.
    public var computeSeconds: Double, exchangeSeconds: Double

    public init(
        id: WorkID, weightsVersion: UInt64, weightsChecksum: UInt64, samples: Int, computeSeconds: Double = 0, exchangeSeconds: Double = 0
    ) {
        (self.id, self.weightsVersion, self.weightsChecksum, self.samples) = (id, weightsVersion, weightsChecksum, samples)
        (self.computeSeconds, self.exchangeSeconds) = (computeSeconds, exchangeSeconds)
    }
}

extension StepApplied: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__StepApplied> {
        let c = arena.message(Comcl__V1__StepApplied.self, comcl__v1__step_applied__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.weights_version = weightsVersion
        c.pointee.weights_checksum = weightsChecksum
        c.pointee.samples = UInt32(clamping: samples)
        c.pointee.compute_s = computeSeconds
        c.pointee.exchange_s = exchangeSeconds
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__StepApplied>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        weightsVersion = p.weights_version
        weightsChecksum = p.weights_checksum
        samples = Int(p.samples)
        computeSeconds = try finiteSeconds(p.compute_s, field: "\(field).compute_s")
        exchangeSeconds = try finiteSeconds(p.exchange_s, field: "\(field).exchange_s")
    }
}

/// A part of a step's flattened gradient (the trainable parameters in state-dict order, end to
/// end): one shard's gradient over a slice, or (`sum`) the sum of a slice over every shard in
/// shard order, with the sender's shard's batch-norm statistics (the coordinator's relayed sum:
/// every shard's, concatenated in shard order).
public struct GradientPart: Equatable, Sendable {
    public var id: WorkID
    public var sum: Bool
    public var offset: Int
    public var values: Tensor
    public var batchNorm: [BatchNormStatistics]

    public init(id: WorkID, sum: Bool, offset: Int, values: Tensor, batchNorm: [BatchNormStatistics] = []) {
        (self.id, self.sum, self.offset, self.values, self.batchNorm) = (id, sum, offset, values, batchNorm)
    }
}

extension GradientPart: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__GradientPart> {
        let c = arena.message(Comcl__V1__GradientPart.self, comcl__v1__gradient_part__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.sum = sum ? 1 : 0
        c.pointee.offset = UInt64(offset)
        c.pointee.values = values.lower(in: arena)
        (c.pointee.n_batch_norm, c.pointee.batch_norm) = arena.messages(batchNorm)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__GradientPart>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        sum = p.sum != 0
        guard p.offset < UInt64(Int32.max) else {
            throw WireError.invalidValue(field: "\(field).offset", reason: "\(p.offset) is too large")
        }
        offset = Int(p.offset)
        values = try Tensor.lift(p.values, field: "\(field).values")
        try values.require(dtype: .float32, shape: [nil], field: "\(field).values")
        batchNorm = try liftStatistics(p.n_batch_norm, p.batch_norm, field: "\(field).batch_norm")
    }
}

/// Coordinator -> worker: its whole state (weights, running statistics, Adam's), for a
/// checkpoint or for a worker that joins.
public struct StateRequest: Equatable, Sendable {
    public var id: WorkID

    public init(id: WorkID) { self.id = id }
}

extension StateRequest: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__StateRequest> {
        let c = arena.message(Comcl__V1__StateRequest.self, comcl__v1__state_request__init)
        c.pointee.id = id.lower(in: arena)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__StateRequest>, field: String) throws {
        id = try WorkID.lift(c.pointee.id, field: "\(field).id")
    }
}

public struct StateReply: Equatable, Sendable {
    public var id: WorkID
    public var state: ReplicaState

    public init(id: WorkID, state: ReplicaState) { (self.id, self.state) = (id, state) }
}

extension StateReply: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__StateReply> {
        let c = arena.message(Comcl__V1__StateReply.self, comcl__v1__state_reply__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.state = state.lower(in: arena)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__StateReply>, field: String) throws {
        id = try WorkID.lift(c.pointee.id, field: "\(field).id")
        state = try ReplicaState.lift(c.pointee.state, field: "\(field).state")
    }
}

/// Relayed worker -> coordinator: a shard's parameter gradients (by state-dict name) and each
/// batch-norm layer's group statistics.
public struct ParameterGradients: Equatable, Sendable {
    public var id: WorkID
    public var gradients: [NamedTensor]
    public var batchNorm: [BatchNormStatistics]
    public var weightsVersion: UInt64
    /// Rows the gradients were summed over.
    public var samples: Int
    public var computeSeconds: Double

    public init(
        id: WorkID, gradients: [NamedTensor], batchNorm: [BatchNormStatistics], weightsVersion: UInt64, samples: Int,
        computeSeconds: Double = 0
    ) {
        (self.id, self.gradients, self.batchNorm, self.weightsVersion) = (id, gradients, batchNorm, weightsVersion)
        (self.samples, self.computeSeconds) = (samples, computeSeconds)
    }
}

extension ParameterGradients: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__ParameterGradients> {
        let c = arena.message(Comcl__V1__ParameterGradients.self, comcl__v1__parameter_gradients__init)
        c.pointee.id = id.lower(in: arena)
        (c.pointee.n_gradients, c.pointee.gradients) = arena.messages(gradients)
        (c.pointee.n_batch_norm, c.pointee.batch_norm) = arena.messages(batchNorm)
        c.pointee.weights_version = weightsVersion
        c.pointee.samples = UInt32(clamping: samples)
        c.pointee.compute_s = computeSeconds
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__ParameterGradients>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        gradients = try NamedTensor.liftAll(p.n_gradients, p.gradients, field: "\(field).gradients")
        try requireFloat32(gradients, field: "\(field).gradients")
        batchNorm = try liftStatistics(p.n_batch_norm, p.batch_norm, field: "\(field).batch_norm")
        weightsVersion = p.weights_version
        samples = Int(p.samples)
        computeSeconds = try finiteSeconds(p.compute_s, field: "\(field).compute_s")
    }
}

/// One batch-norm layer's statistics of a shard's groups: mean and biased variance, [groups, C].
public struct BatchNormStatistics: Equatable, Sendable {
    public var layer: Int
    public var mean: Tensor
    public var variance: Tensor

    public init(layer: Int, mean: Tensor, variance: Tensor) {
        (self.layer, self.mean, self.variance) = (layer, mean, variance)
    }
}

extension BatchNormStatistics: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__BatchNormStatistics> {
        let c = arena.message(Comcl__V1__BatchNormStatistics.self, comcl__v1__batch_norm_statistics__init)
        c.pointee.layer = UInt32(clamping: layer)
        c.pointee.mean = mean.lower(in: arena)
        c.pointee.variance = variance.lower(in: arena)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__BatchNormStatistics>, field: String) throws {
        let p = c.pointee
        layer = Int(p.layer)
        mean = try Tensor.lift(p.mean, field: "\(field).mean")
        try mean.require(dtype: .float32, shape: [nil, nil], field: "\(field).mean")
        variance = try Tensor.lift(p.variance, field: "\(field).variance")
        try variance.require(dtype: .float32, shape: mean.shape.map { Optional($0) }, field: "\(field).variance")
    }
}

/// A model's whole state (weights and running statistics by state-dict name, and Adam's as a
/// checkpoint's optimizer.safetensors); `checksum` (FNV-1a 64 of the tensors) proves a replica
/// loaded exactly the state sent.
public struct ReplicaState: Equatable, Sendable {
    public var version: UInt64
    public var tensors: [NamedTensor]
    public var checksum: UInt64
    public var optimizer: [UInt8]

    public init(version: UInt64, tensors: [NamedTensor], checksum: UInt64, optimizer: [UInt8] = []) {
        (self.version, self.tensors, self.checksum, self.optimizer) = (version, tensors, checksum, optimizer)
    }
}

extension ReplicaState: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__ReplicaState> {
        let c = arena.message(Comcl__V1__ReplicaState.self, comcl__v1__replica_state__init)
        c.pointee.version = version
        (c.pointee.n_tensors, c.pointee.tensors) = arena.messages(tensors)
        c.pointee.checksum = checksum
        c.pointee.optimizer = arena.bytes(optimizer)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__ReplicaState>, field: String) throws {
        let p = c.pointee
        version = p.version
        tensors = try NamedTensor.liftAll(p.n_tensors, p.tensors, field: "\(field).tensors")
        try requireFloat32(tensors, field: "\(field).tensors")
        checksum = p.checksum
        optimizer = liftBytes(p.optimizer)
    }
}

/// Batch-norm statistics, one per layer in model order.
private func liftStatistics(
    _ count: Int, _ items: UnsafeMutablePointer<UnsafeMutablePointer<Comcl__V1__BatchNormStatistics>?>?, field: String
) throws -> [BatchNormStatistics] {
    let statistics = try BatchNormStatistics.liftAll(count, items, field: field)
    for (index, layer) in statistics.enumerated() where layer.layer != index {
        throw WireError.invalidValue(field: "\(field)[\(index)].layer", reason: "layer \(layer.layer) out of model order")
    }
    return statistics
}

/// Row indices, one per tensor row.
private func liftRows(_ count: Int, _ values: UnsafeMutablePointer<UInt64>?, rows: Int, field: String) throws -> [UInt64] {
    let samples: [UInt64] = liftScalars(count, values)
    guard samples.count == rows else {
        throw WireError.invalidValue(field: field, reason: "\(samples.count) sample indices for \(rows) rows")
    }
    return samples
}

/// Gradient and weight tensors are float32 and keyed by unique names.
private func requireFloat32(_ tensors: [NamedTensor], field: String) throws {
    try requireUniqueNames(tensors, field: field)
    for (index, named) in tensors.enumerated() where named.tensor.dtype != .float32 {
        throw WireError.invalidValue(field: "\(field)[\(index)].tensor.dtype", reason: "expected float32, got \(named.tensor.dtype)")
    }
}

private func finiteSeconds(_ value: Double, field: String) throws -> Double {
    guard value.isFinite, value >= 0 else { throw WireError.invalidValue(field: field, reason: "\(value) is not a duration in seconds") }
    return value
}
