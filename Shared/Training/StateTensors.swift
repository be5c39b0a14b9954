import Basics
import Encoder
import Foundation
import Wire

/// A model's state on the wire: every float tensor of the state dict (weights and running
/// statistics) by its torchvision name, in our in-memory layout (both ends are this code, so no
/// conversion; checkpoints convert to PyTorch's layout). `num_batches_tracked` stays with the
/// coordinator: nothing in a forward or backward pass reads it.
public enum StateTensors {
    /// The float tensors of `model`'s state dict, in state-dict order.
    static func floats(_ model: EncoderModel) -> [(name: String, parameter: Parameter)] {
        model.state().compactMap { name, tensor in
            if case .parameter(let p) = tensor { return (name, p) }
            return nil
        }
    }

    public static func checksum(_ model: EncoderModel) -> UInt64 {
        var hash = FNV1a64()
        for (_, p) in floats(model) { hash.add(UnsafeRawBufferPointer(start: p.value.pointer, count: p.count * 4)) }
        return hash.value
    }

    /// The whole state a replica loads; `checksum` is the model's.
    public static func state(_ model: EncoderModel, optimizer: Adam, version: UInt64, checksum: UInt64) -> ReplicaState {
        let tensors = floats(model).map {
            NamedTensor(name: $0.name, tensor: tensor($0.parameter.value.pointer, shape: $0.parameter.shape))
        }
        let adam = [UInt8](optimizer.encodeState(names: model.parameters.map(\.name)))
        return ReplicaState(version: version, tensors: tensors, checksum: checksum, optimizer: adam)
    }

    /// The state's Adam (settings, moments, step) over `model`'s parameters.
    static func optimizer(_ state: ReplicaState, for model: EncoderModel) throws(TrainingError) -> Adam {
        guard !state.optimizer.isEmpty else { throw .badInput("model state \(state.version) carries no optimizer state") }
        do {
            return try Adam.restored(
                SafeTensors(data: Data(state.optimizer)), parameters: model.parameters.map(\.parameter), names: model.parameters.map(\.name)
            )
        } catch {
            throw .badInput("model state \(state.version): its optimizer state cannot be used: \(error)")
        }
    }

    /// Loads a state into the existing buffers (no allocation), after checking every name and
    /// shape, then checks the checksum. The model is unchanged when a check fails before loading.
    public static func load(_ update: ReplicaState, into model: EncoderModel) throws(TrainingError) {
        let state = floats(model)
        let given = Dictionary(update.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        for (name, p) in state {
            guard let t = given[name] else { throw .badInput("model state \(update.version) lacks \(name)") }
            guard t.shape == p.shape else {
                throw .badInput("model state \(update.version): \(name) has shape \(t.shape), the model needs \(p.shape)")
            }
        }
        if given.count != state.count {
            let extra = Set(given.keys).subtracting(state.map(\.name)).sorted()
            throw .badInput("model state \(update.version) has tensors the model does not: \(extra.prefix(5).joined(separator: ", "))")
        }
        for (name, p) in state { copy(given[name]!, into: p.value.pointer) }
        let mine = checksum(model)
        guard mine == update.checksum else {
            throw .badInput(
                "model state \(update.version): checksum \(hex(mine)) after loading, the coordinator's is \(hex(update.checksum))")
        }
    }

    /// The trainable parameters' gradients, by name.
    static func gradients(_ model: EncoderModel) -> [NamedTensor] {
        model.parameters.map { NamedTensor(name: $0.name, tensor: tensor($0.parameter.grad!.pointer, shape: $0.parameter.shape)) }
    }

    /// Each batch-norm layer's statistics of the last forward's groups, [groups, C].
    static func batchNormStatistics(_ model: EncoderModel) -> [BatchNormStatistics] {
        let channels = model.backbone.batchNormChannels
        return model.backbone.batchNormGroupStatistics.enumerated().map { layer, s in
            let shape = [s.mean.count / channels[layer], channels[layer]]
            return BatchNormStatistics(
                layer: layer, mean: try! Tensor(float32: s.mean, shape: shape), variance: try! Tensor(float32: s.variance, shape: shape))
        }
    }

    static func tensor(_ pointer: UnsafeMutablePointer<Float>, shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        // The byte count matches the shape by construction.
        return try! Tensor(dtype: .float32, shape: shape, data: Array(UnsafeRawBufferPointer(start: pointer, count: count * 4)))
    }

    static func copy(_ tensor: Tensor, into pointer: UnsafeMutablePointer<Float>) {
        tensor.data.withUnsafeBytes { UnsafeMutableRawPointer(pointer).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    static func hex(_ value: UInt64) -> String { String(value, radix: 16) }
}

/// Why a training message or file could not be used: a clear sentence and the error code the
/// peer sees.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case badInput(String)
    case unavailable(String)
    /// Views kept at this data endpoint could not be fetched.
    case dataUnavailable(endpoint: String, String)
    case config(String)

    public var description: String {
        switch self {
        case .badInput(let s), .unavailable(let s), .config(let s), .dataUnavailable(_, let s): s
        }
    }
}
