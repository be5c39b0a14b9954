import Encoder
import Wire

/// The step every replica takes once the step's gradient is summed (docs/training.md). The sum
/// is every shard's gradient added in shard order, starting from zeros, whoever sums it (the
/// worker that owns a slice, or the coordinator for relayed workers), so its bits do not
/// depend on the worker count's effect on who adds what. Every replica then loads the same sum
/// into its gradients, takes the same Adam step and replays the same batch-norm groups in group
/// order: the replicas stay bitwise equal without the weights ever travelling.
public enum ReplicaUpdate {
    /// Floats in the flattened gradient: the trainable parameters, end to end in state-dict order.
    public static func length(_ model: EncoderModel) -> Int { model.parameters.reduce(0) { $0 + $1.parameter.count } }

    /// The slice of the flattened gradient that shard `k` of `n` sums (contiguous, as even as
    /// the length allows).
    public static func slice(_ k: Int, of n: Int, length: Int) -> Range<Int> { (length * k / n)..<(length * (k + 1) / n) }

    /// The model's gradients, flattened.
    static func flatten(_ model: EncoderModel) -> [Float] {
        var flat = [Float]()
        flat.reserveCapacity(length(model))
        for (_, p) in model.parameters { flat += UnsafeBufferPointer(start: p.grad!.pointer, count: p.count) }
        return flat
    }

    /// Adds one shard's values into a running sum (the caller goes in shard order from zeros).
    static func add(_ values: UnsafeBufferPointer<Float>, into sum: inout [Float]) {
        precondition(values.count == sum.count, "adding \(values.count) values into a sum of \(sum.count)")
        sum.withUnsafeMutableBufferPointer { s in for i in 0..<s.count { s[i] += values[i] } }
    }

    static func add(_ tensor: Tensor, into sum: inout [Float]) {
        tensor.data.withUnsafeBytes { add($0.bindMemory(to: Float.self), into: &sum) }
    }

    /// Checks one shard's batch-norm statistics against the model: a layer each, [groups, C].
    static func check(_ statistics: [BatchNormStatistics], of shard: String, model: EncoderModel) throws(TrainingError) {
        let channels = model.backbone.batchNormChannels
        guard statistics.count == channels.count else {
            throw .badInput("\(shard): statistics of \(statistics.count) batch-norm layers, the model has \(channels.count)")
        }
        for (layer, c) in channels.enumerated() where statistics[layer].mean.shape.last != c {
            throw .badInput("\(shard): batch-norm layer \(layer) statistics are \(statistics[layer].mean.shape), expected [groups, \(c)]")
        }
    }

    /// Takes the step: `sum` (flattened) into the gradients (nil: they already hold it, a step
    /// of one shard), Adam at `learningRate`, then the shards' batch-norm statistics (each
    /// checked, in shard order) replayed into the running statistics, which must be the step's
    /// starting ones (`RunningStatistics.restore`).
    static func apply(
        sum: [Float]?, statistics shards: [[BatchNormStatistics]], to model: EncoderModel, optimizer: Adam, learningRate: Double
    ) throws(TrainingError) {
        if let sum, sum.count != length(model) {
            throw .badInput("a summed gradient of \(sum.count) values; the model has \(length(model))")
        }
        for (index, shard) in shards.enumerated() { try check(shard, of: "shard \(index)", model: model) }
        if let sum {
            var offset = 0
            for (_, p) in model.parameters {
                sum.withUnsafeBufferPointer { p.grad!.pointer.update(from: $0.baseAddress! + offset, count: p.count) }
                offset += p.count
            }
        }
        optimizer.learningRate = Float(learningRate)
        optimizer.update()
        model.backbone.replayBatchNormGroupStatistics(groups(shards, layers: model.backbone.batchNormChannels.count))
    }

    /// Each batch-norm layer's group statistics of every shard, concatenated in shard order: the
    /// groups in the order one worker holding the whole batch would have them.
    static func groups(_ shards: [[BatchNormStatistics]], layers: Int) -> [(mean: [Float], variance: [Float])] {
        (0..<layers).map { layer in
            (mean: shards.flatMap { $0[layer].mean.floats()! }, variance: shards.flatMap { $0[layer].variance.floats()! })
        }
    }
}

/// A replica's running batch-norm statistics as of its weights version: a training forward moves
/// them (its groups' statistics), but the step replays every shard's groups from the version's
/// values, and a forward taken again (a new attempt) must not count twice.
struct RunningStatistics {
    private var saved: [(name: String, values: [Float])] = []

    private static func running(_ model: EncoderModel) -> [(String, Parameter)] {
        StateTensors.floats(model).filter { $0.name.hasSuffix("running_mean") || $0.name.hasSuffix("running_var") }.map {
            ($0.name, $0.parameter)
        }
    }

    /// Remembers the model's (after loading a state or taking a step).
    mutating func save(_ model: EncoderModel) {
        saved = Self.running(model).map { ($0.0, $0.1.values) }
    }

    /// Puts them back (before a forward, a replay or handing the state out).
    func restore(_ model: EncoderModel) {
        for ((_, p), (_, values)) in zip(Self.running(model), saved) {
            values.withUnsafeBufferPointer { p.value.pointer.update(from: $0.baseAddress!, count: $0.count) }
        }
    }
}
