import CProtocol

/// Coordinator -> worker: the inputs of one shard [N, 3, H, W] (with the state to load first
/// when the worker's is older); worker -> coordinator: their embeddings [N, D]. Always float32.
public struct EmbeddingBatch: Equatable, Sendable {
    public var id: WorkID
    public var tensor: Tensor
    public var samples: [UInt64]
    public var weightsVersion: UInt64
    /// Batch-norm group size G (N is a multiple of it); 0 = the whole shard is one group.
    public var batchNormGroup: Int
    public var weights: WeightUpdate?
    public var weightsChecksum: UInt64
    public var computeSeconds: Double
    /// The encoder the request is for, "<arch>:<width>" (replicas build their model from it).
    public var model: String

    public init(
        id: WorkID, tensor: Tensor, samples: [UInt64], weightsVersion: UInt64, batchNormGroup: Int = 0,
        weights: WeightUpdate? = nil, weightsChecksum: UInt64 = 0, computeSeconds: Double = 0, model: String = ""
    ) {
        self.model = model
        (self.id, self.tensor, self.samples, self.weightsVersion) = (id, tensor, samples, weightsVersion)
        (self.batchNormGroup, self.weights, self.weightsChecksum, self.computeSeconds) = (
            batchNormGroup, weights, weightsChecksum, computeSeconds
        )
    }
}

extension EmbeddingBatch: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__EmbeddingBatch> {
        let c = arena.message(Comcl__V1__EmbeddingBatch.self, comcl__v1__embedding_batch__init)
        c.pointee.id = id.lower(in: arena)
        c.pointee.tensor = tensor.lower(in: arena)
        c.pointee.n_sample = samples.count
        c.pointee.sample = arena.array(samples)
        c.pointee.weights_version = weightsVersion
        c.pointee.bn_group = UInt32(clamping: batchNormGroup)
        c.pointee.weights = weights?.lower(in: arena)
        c.pointee.weights_checksum = weightsChecksum
        c.pointee.compute_s = computeSeconds
        c.pointee.model = arena.string(model)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__EmbeddingBatch>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        tensor = try Tensor.lift(p.tensor, field: "\(field).tensor")
        let rank = tensor.shape.count
        try tensor.require(dtype: .float32, shape: [Int?](repeating: nil, count: rank == 4 ? 4 : 2), field: "\(field).tensor")
        samples = liftScalars(p.n_sample, p.sample)
        guard samples.count == tensor.shape[0] else {
            throw WireError.invalidValue(
                field: "\(field).sample", reason: "\(samples.count) sample indices for \(tensor.shape[0]) rows")
        }
        weightsVersion = p.weights_version
        batchNormGroup = Int(p.bn_group)
        guard batchNormGroup == 0 || samples.count % batchNormGroup == 0 else {
            throw WireError.invalidValue(
                field: "\(field).bn_group", reason: "\(samples.count) rows are not whole groups of \(batchNormGroup)")
        }
        weights = try p.weights.map { try WeightUpdate(lifting: $0, field: "\(field).weights") }
        weightsChecksum = p.weights_checksum
        computeSeconds = try finiteSeconds(p.compute_s, field: "\(field).compute_s")
        model = liftString(p.model)
    }
}

/// dL/d(embedding) sent to a worker (one tensor named "embedding"), or the parameter
/// gradients a worker sends back.
public struct Gradients: Equatable, Sendable {
    public var id: WorkID
    public var tensors: [NamedTensor]
    public var weightsVersion: UInt64
    public var loss: Double
    public var samples: Int
    public var computeSeconds: Double

    public init(id: WorkID, tensors: [NamedTensor], weightsVersion: UInt64, loss: Double = 0, samples: Int, computeSeconds: Double = 0) {
        (self.id, self.tensors, self.weightsVersion, self.loss, self.samples) = (id, tensors, weightsVersion, loss, samples)
        self.computeSeconds = computeSeconds
    }
}

extension Gradients: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Gradients> {
        let c = arena.message(Comcl__V1__Gradients.self, comcl__v1__gradients__init)
        c.pointee.id = id.lower(in: arena)
        (c.pointee.n_tensors, c.pointee.tensors) = arena.messages(tensors)
        c.pointee.weights_version = weightsVersion
        c.pointee.loss = loss
        c.pointee.samples = UInt32(clamping: samples)
        c.pointee.compute_s = computeSeconds
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Gradients>, field: String) throws {
        let p = c.pointee
        id = try WorkID.lift(p.id, field: "\(field).id")
        tensors = try NamedTensor.liftAll(p.n_tensors, p.tensors, field: "\(field).tensors")
        try requireFloat32(tensors, field: "\(field).tensors")
        weightsVersion = p.weights_version
        loss = p.loss
        guard loss.isFinite else { throw WireError.invalidValue(field: "\(field).loss", reason: "\(loss) is not finite") }
        samples = Int(p.samples)
        computeSeconds = try finiteSeconds(p.compute_s, field: "\(field).compute_s")
    }
}

/// The averaged update every replica applies; `checksum` (FNV-1a 64 of the weights after
/// the update) proves the replicas agree.
public struct WeightUpdate: Equatable, Sendable {
    public var version: UInt64
    public var tensors: [NamedTensor]
    public var full: Bool
    public var learningRate: Double
    public var checksum: UInt64

    public init(version: UInt64, tensors: [NamedTensor], full: Bool, learningRate: Double, checksum: UInt64) {
        (self.version, self.tensors, self.full, self.learningRate, self.checksum) = (version, tensors, full, learningRate, checksum)
    }
}

extension WeightUpdate: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__WeightUpdate> {
        let c = arena.message(Comcl__V1__WeightUpdate.self, comcl__v1__weight_update__init)
        c.pointee.version = version
        (c.pointee.n_tensors, c.pointee.tensors) = arena.messages(tensors)
        c.pointee.full = full ? 1 : 0
        c.pointee.learning_rate = learningRate
        c.pointee.checksum = checksum
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__WeightUpdate>, field: String) throws {
        let p = c.pointee
        version = p.version
        tensors = try NamedTensor.liftAll(p.n_tensors, p.tensors, field: "\(field).tensors")
        try requireFloat32(tensors, field: "\(field).tensors")
        full = p.full != 0
        learningRate = p.learning_rate
        guard learningRate.isFinite, learningRate >= 0 else {
            throw WireError.invalidValue(field: "\(field).learning_rate", reason: "\(learningRate) is not a finite non-negative rate")
        }
        checksum = p.checksum
    }
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
