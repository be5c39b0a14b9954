import Contrastive
import Wire

/// One training step, read top to bottom (docs/training.md): the step's views are cut into
/// shards -> 1. forward requests -> 2. embeddings in, the loss and dL/dz -> 3. backward requests
/// -> 4. parameter gradients in -> 5. the update (sum, Adam, batch-norm replay).
/// It knows nothing of sockets: `TrainingRun` sends its requests over the embedding link, the
/// tests hand them to in-process replicas. If a worker leaves, `retry()` starts the embedding
/// work again as a new attempt (the views are kept).
public struct TrainingStep {
    public enum Phase: Equatable, Sendable {
        /// The views are in; the forward waits for workers (at the start and after a retry).
        case waiting
        /// Forward requests sent; embeddings arriving.
        case forward
        /// The loss is computed and backward requests sent; gradients arriving.
        case backward
        /// The master model holds the step's update.
        case applied
    }

    public let number: Int
    public let views: StepViews
    public private(set) var phase = Phase.waiting
    public private(set) var attempt = 0
    /// Each shard's worker and patches, for the current attempt.
    public private(set) var shards: [(worker: String, patches: Range<Int>)] = []
    public private(set) var outcome: LossOutcome?
    public var times = StepRecord.Times()
    /// When the views were all in (`clock`).
    public let viewsReadyAt = clock.now()
    /// Compute seconds the workers reported, over every shard and phase.
    public private(set) var workerSeconds = 0.0
    private let config: TrainingConfig
    /// Each shard's views and loss rows, for `inputs.count` shards.
    private var inputs: [(sources: [ViewSource], samples: [UInt64])]
    private var embeddings: [Embeddings?] = []
    private var gradients: [ParameterGradients?] = []
    private var phaseStarted = clock.now()

    /// `shards`: how many shards to cut the views into now (again if the forward finds another
    /// worker count). `attempt`: the first attempt's number (a step taken again after its views
    /// were lost keeps counting, so its work ids stay unique).
    public init(_ views: StepViews, config: TrainingConfig, shards: Int, attempt: Int = 0) {
        (number, self.views, self.config, self.attempt) = (views.step, views, config, attempt)
        inputs = Self.inputs(views, config: config, shards: shards)
    }

    private static func inputs(_ views: StepViews, config: TrainingConfig, shards: Int) -> [(sources: [ViewSource], samples: [UInt64])] {
        Sharding.shards(batch: config.batch, group: config.bnGroup, workers: shards).map {
            Sharding.sources(views, patches: $0, group: config.bnGroup)
        }
    }

    // MARK: 1. forward

    /// The forward requests, one shard per worker (at most one per batch-norm block). The state
    /// travels to workers for which `needsState` says theirs is older.
    public mutating func forward(
        on workers: [String], master: MasterModel, needsState: (String) -> Bool
    ) -> [(
        worker: String, request: ForwardRequest
    )] {
        precondition(phase == .waiting, "step \(number): forward in phase \(phase)")
        let ranges = Sharding.shards(batch: config.batch, group: config.bnGroup, workers: workers.count)
        shards = ranges.enumerated().map { (workers[$0], $1) }
        if inputs.count != shards.count { inputs = Self.inputs(views, config: config, shards: shards.count) }
        (embeddings, gradients, outcome) = (Array(repeating: nil, count: shards.count), Array(repeating: nil, count: shards.count), nil)
        phase = .forward
        phaseStarted = clock.now()
        let state = master.state
        let model = TrainingConfig.modelName(config.model)
        return shards.enumerated().map { index, shard in
            let (sources, samples) = inputs[index]
            let request = ForwardRequest(
                id: id(index, .forward), sources: sources, samples: samples, weightsVersion: master.version, batchNormGroup: config.bnGroup,
                state: needsState(shard.worker) ? state : nil, model: model)
            return (shard.worker, request)
        }
    }

    /// The shard a reply of this attempt (and `phase`, if given) belongs to; nil for anything
    /// else (a reply of an earlier attempt or another step).
    public func shard(of id: WorkID, in phase: ShardID.Phase? = nil) -> Int? {
        guard let shard = ShardID(id), shard.run == config.run, shard.step == number, shard.attempt == attempt,
            phase.map({ shard.phase == $0 }) ?? true, shard.shard < shards.count
        else { return nil }
        return shard.shard
    }

    private func id(_ shard: Int, _ phase: ShardID.Phase) -> WorkID {
        ShardID(run: config.run, step: number, attempt: attempt, shard: shard, phase: phase).workID
    }

    // MARK: 2. embeddings in, the loss

    /// One shard's embeddings, checked against the master's state. When the last is in: the
    /// loss, dL/dz and 3. the backward requests (nil before).
    public mutating func received(
        _ reply: Embeddings, shard: Int, master: MasterModel, loss: MultiLevelLoss
    ) throws(TrainingError) -> [(
        worker: String, request: BackwardRequest
    )]? {
        guard phase == .forward, embeddings[shard] == nil else { return nil }
        let worker = shards[shard].worker
        guard reply.weightsChecksum == master.checksum, reply.weightsVersion == master.version else {
            throw .badInput(
                "replica \(worker) holds weights \(String(reply.weightsChecksum, radix: 16)) v\(reply.weightsVersion); the coordinator's are \(String(master.checksum, radix: 16)) v\(master.version)"
            )
        }
        let d = master.model.outputDimension
        guard reply.embeddings.shape == [inputs[shard].samples.count, d], reply.samples == inputs[shard].samples else {
            throw .badInput(
                "replica \(worker) returned embeddings of shape \(reply.embeddings.shape) for \(inputs[shard].samples.count) samples")
        }
        embeddings[shard] = reply
        workerSeconds += reply.computeSeconds
        times.forwardCompute = max(times.forwardCompute, reply.computeSeconds)
        guard embeddings.allSatisfy({ $0 != nil }) else { return nil }
        times.forward = seconds(since: phaseStarted)

        let started = clock.now()
        let z = Sharding.gather(embeddings.map { $0! }, batch: config.batch, dimension: d)
        let outcome = loss.compute(embeddings: z, dimension: d, levels: views.levels, step: number, totalSteps: config.steps)
        guard outcome.total.isFinite else { throw .badInput("step \(number + 1): the loss is \(outcome.total)") }
        self.outcome = outcome
        times.loss = seconds(since: started)
        phase = .backward
        phaseStarted = clock.now()
        return shards.enumerated().map { index, shard in
            let rows = Sharding.rows(outcome.gradient, samples: inputs[index].samples, dimension: d)
            return (shard.worker, BackwardRequest(id: id(index, .backward), embeddingGradient: rows, weightsVersion: master.version))
        }
    }

    // MARK: 4. gradients in

    /// One shard's parameter gradients; true when every shard's is in.
    public mutating func received(_ reply: ParameterGradients, shard: Int) -> Bool {
        guard phase == .backward, gradients[shard] == nil else { return false }
        gradients[shard] = reply
        workerSeconds += reply.computeSeconds
        times.backwardCompute = max(times.backwardCompute, reply.computeSeconds)
        guard gradients.allSatisfy({ $0 != nil }) else { return false }
        times.backward = seconds(since: phaseStarted)
        return true
    }

    // MARK: 5. the update

    /// Sums the shards' gradients in shard order, steps Adam at `learningRate`, replays the
    /// batch-norm statistics: the master is at the next version.
    public mutating func apply(to master: MasterModel, learningRate: Double) throws(TrainingError) {
        precondition(phase == .backward && gradients.allSatisfy { $0 != nil }, "step \(number): update before every gradient is in")
        master.optimizer.learningRate = Float(learningRate)
        let split = try master.apply(gradients.map { $0! })
        (times.aggregate, times.optimizer) = split
        phase = .applied
    }

    // MARK: a worker left

    /// Starts the embedding work again (forward and backward) as a new attempt; replies of the
    /// old one are ignored from now on.
    public mutating func retry() {
        precondition(phase == .forward || phase == .backward, "step \(number): retry in phase \(phase)")
        attempt += 1
        phase = .waiting
    }
}
