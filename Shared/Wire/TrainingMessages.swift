import CProtocol

// The embedding link, one message per direction (comcl.proto): ForwardRequest -> Embeddings,
// then BackwardRequest -> ParameterGradients for the same shard. Every tensor is float32.

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
/// in the forward's order.
public struct BackwardRequest: Equatable, Sendable {
    public var id: WorkID
    public var embeddingGradient: Tensor
    public var weightsVersion: UInt64

    public init(id: WorkID, embeddingGradient: Tensor, weightsVersion: UInt64) {
        (self.id, self.embeddingGradient, self.weightsVersion) = (id, embeddingGradient, weightsVersion)
    }
}

extension BackwardRequest: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__BackwardRequest> {
        let c = arena.message(Comcl__V1__BackwardRequest.self, comcl__v1__backward_request__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.embedding_gradient = embeddingGradient.lower(in: arena)
        c.pointee.weights_version = weightsVersion
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__BackwardRequest>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        embeddingGradient = try Tensor.lift(p.embedding_gradient, field: "\(field).embedding_gradient")
        try embeddingGradient.require(dtype: .float32, shape: [nil, nil], field: "\(field).embedding_gradient")
        weightsVersion = p.weights_version
    }
}

/// Worker -> coordinator: a shard's parameter gradients (by state-dict name) and each
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
        batchNorm = try BatchNormStatistics.liftAll(p.n_batch_norm, p.batch_norm, field: "\(field).batch_norm")
        for (index, layer) in batchNorm.enumerated() where layer.layer != index {
            throw WireError.invalidValue(field: "\(field).batch_norm[\(index)].layer", reason: "layer \(layer.layer) out of model order")
        }
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

/// A model's whole state (weights and running statistics by state-dict name); `checksum`
/// (FNV-1a 64 of the state) proves a replica loaded exactly the coordinator's.
public struct ReplicaState: Equatable, Sendable {
    public var version: UInt64
    public var tensors: [NamedTensor]
    public var checksum: UInt64

    public init(version: UInt64, tensors: [NamedTensor], checksum: UInt64) {
        (self.version, self.tensors, self.checksum) = (version, tensors, checksum)
    }
}

extension ReplicaState: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__ReplicaState> {
        let c = arena.message(Comcl__V1__ReplicaState.self, comcl__v1__replica_state__init)
        c.pointee.version = version
        (c.pointee.n_tensors, c.pointee.tensors) = arena.messages(tensors)
        c.pointee.checksum = checksum
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__ReplicaState>, field: String) throws {
        let p = c.pointee
        version = p.version
        tensors = try NamedTensor.liftAll(p.n_tensors, p.tensors, field: "\(field).tensors")
        try requireFloat32(tensors, field: "\(field).tensors")
        checksum = p.checksum
    }
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
