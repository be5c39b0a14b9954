import Contrastive
import Wire

/// One training step, read top to bottom (docs/training.md): the step's views are cut into
/// shards -> 1. forward requests -> 2. embeddings in, the loss and dL/dz -> 3. backward requests
/// -> 4. the workers sum their gradients among themselves and each takes the step (a relayed
/// step: their gradients in, the coordinator's sum out) -> 5. every shard's outcome in: the step
/// is committed if any replica took it, else taken again.
/// It knows nothing of sockets: `TrainingRun` sends its requests over the embedding link, the
/// tests hand them to in-process replicas. If a worker leaves, `retry()` starts the embedding
/// work again as a new attempt (the views are kept).
public struct TrainingStep {
    public enum Phase: Equatable, Sendable {
        /// The views are in; the forward waits for workers (at the start and after a retry).
        case waiting
        /// Forward requests sent; embeddings arriving.
        case forward
        /// The loss is computed and backward requests sent; the replicas sum and step.
        case backward
        /// The replicas took the step (the master's version is the next).
        case applied
    }

    public let number: Int
    public let views: StepViews
    public private(set) var phase = Phase.waiting
    public private(set) var attempt = 0
    /// Each shard's worker, its data endpoint ("" = none) and patches, for the current attempt.
    public private(set) var shards: [(worker: String, endpoint: String, patches: Range<Int>)] = []
    public private(set) var outcome: LossOutcome?
    public var times = StepRecord.Times()
    /// When the views were all in (`clock`).
    public let viewsReadyAt = clock.now()
    /// Compute seconds the workers reported, over every shard and phase.
    public private(set) var workerSeconds = 0.0
    private let config: TrainingConfig
    /// Each shard's views and loss rows, for the patch ranges `inputRanges`.
    private var inputs: [(sources: [ViewSource], samples: [UInt64])] = []
    private var inputRanges: [Range<Int>] = []
    private var embeddings: [Embeddings?] = []
    private var outcomes: [Outcome] = []
    /// A relayed step's sum has gone out.
    private var summed = false

    /// Where each shard's backward stands.
    enum Outcome {
        case computing
        /// Relayed: its gradients are in, for the coordinator's sum.
        case relayed(ParameterGradients)
        case applied(StepApplied)
        case failed
    }

    /// How the backward phase ended.
    public enum Resolution: Equatable, Sendable {
        /// At least one replica took the step (with this checksum): the workers of `stale`
        /// shards did not and need the state before their next forward.
        case committed(checksum: UInt64, stale: [String])
        /// No replica took it: every one is still at the step's weights; take it again.
        case retry
    }
    private var phaseStarted = clock.now()

    /// `shares`: each expected worker's share of the batch (`WorkerSpeeds`), to cut the views into
    /// shards now (again if the forward finds another split). `attempt`: the first attempt's
    /// number (a step taken again after its views were lost keeps counting, so its work ids stay
    /// unique).
    public init(_ views: StepViews, config: TrainingConfig, shares: [Double], attempt: Int = 0) {
        (number, self.views, self.config, self.attempt) = (views.step, views, config, attempt)
        cut(Sharding.shards(batch: config.batch, group: config.bnGroup, shares: shares))
    }

    /// Even shares for `shards` workers.
    public init(_ views: StepViews, config: TrainingConfig, shards: Int, attempt: Int = 0) {
        self.init(views, config: config, shares: Array(repeating: 1, count: max(1, shards)), attempt: attempt)
    }

    /// Builds each shard's views and loss rows for these patch ranges.
    private mutating func cut(_ ranges: [Range<Int>]) {
        inputs = ranges.map { Sharding.sources(views, patches: $0, group: config.bnGroup) }
        inputRanges = ranges
    }

    // MARK: 1. forward

    /// The forward requests, one shard per worker (at most one per batch-norm block). The state
    /// travels to workers for which `needsState` says theirs is older.
    /// `workers`: each worker's id and data endpoint ("" = none: the step is relayed);
    /// `shares`: their shares of the batch (nil: even).
    public mutating func forward(
        on workers: [(id: String, endpoint: String)], shares: [Double]? = nil, master: MasterModel, needsState: (String) -> Bool
    ) -> [(
        worker: String, request: ForwardRequest
    )] {
        precondition(phase == .waiting, "step \(number): forward in phase \(phase)")
        let ranges = Sharding.shards(
            batch: config.batch, group: config.bnGroup, shares: shares ?? Array(repeating: 1, count: max(1, workers.count)))
        shards = ranges.enumerated().map { (workers[$0].id, workers[$0].endpoint, $1) }
        if inputRanges != ranges { cut(ranges) }
        (embeddings, outcomes, outcome, summed) = (
            Array(repeating: nil, count: shards.count), Array(repeating: .computing, count: shards.count), nil, false
        )
        phase = .forward
        phaseStarted = clock.now()
        // The master holds the current state whenever a worker needs it (TrainingRun sees to it).
        let state = shards.contains { needsState($0.worker) } ? master.state : nil
        let model = TrainingConfig.modelName(config.model)
        return shards.enumerated().map { index, shard in
            let (sources, samples) = inputs[index]
            let request = ForwardRequest(
                id: id(index, .forward), sources: sources, samples: samples, weightsVersion: master.version, batchNormGroup: config.bnGroup,
                state: needsState(shard.worker) ? state! : nil, model: model)
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
        // Workers sum among themselves when every one has a data endpoint; else all are relayed.
        let peers = shards.allSatisfy { !$0.endpoint.isEmpty } ? shards.map(\.endpoint) : []
        let rate = config.learningRate(at: number)
        return shards.enumerated().map { index, shard in
            let rows = Sharding.rows(outcome.gradient, samples: inputs[index].samples, dimension: d)
            return (
                shard.worker,
                BackwardRequest(
                    id: id(index, .backward), embeddingGradient: rows, weightsVersion: master.version, peers: peers, learningRate: rate)
            )
        }
    }

    // MARK: 4. the sum (relayed steps only)

    /// Where a relayed step stands after a shard's gradients.
    public enum RelayProgress {
        case waiting
        /// Every shard's gradients are in: the sum, to send to each worker as a request.
        case sum([(worker: String, sum: GradientPart)])
        /// A shard had failed: nobody can step; every outcome is in.
        case resolved(Resolution)
    }

    /// A relayed shard's parameter gradients.
    public mutating func received(_ reply: ParameterGradients, shard: Int, master: MasterModel) throws(TrainingError) -> RelayProgress {
        guard phase == .backward, case .computing = outcomes[shard] else { return .waiting }
        outcomes[shard] = .relayed(reply)
        workerSeconds += reply.computeSeconds
        times.backwardCompute = max(times.backwardCompute, reply.computeSeconds)
        if let resolution = resolve() { return .resolved(resolution) }
        let replies = outcomes.compactMap { if case .relayed(let r) = $0 { r } else { nil } }
        guard replies.count == shards.count else { return .waiting }
        let started = clock.now()
        let (values, batchNorm) = try master.sum(replies)
        times.aggregate = seconds(since: started)
        summed = true
        let tensor = try! Tensor(float32: values, shape: [values.count])
        return .sum(
            shards.indices.map {
                (shards[$0].worker, GradientPart(id: id($0, .apply), sum: true, offset: 0, values: tensor, batchNorm: batchNorm))
            })
    }

    // MARK: 5. every shard's outcome

    /// A replica took the step; the resolution once every shard's outcome is in.
    public mutating func received(_ reply: StepApplied, shard: Int, master: MasterModel) throws(TrainingError) -> Resolution? {
        guard phase == .backward else { return nil }
        switch outcomes[shard] {
        case .computing, .relayed: break
        case .applied, .failed: return nil
        }
        guard reply.weightsVersion == master.version + 1 else {
            throw .badInput("replica \(shards[shard].worker) stepped to version \(reply.weightsVersion) from \(master.version)")
        }
        for case .applied(let other) in outcomes where other.weightsChecksum != reply.weightsChecksum {
            throw .badInput(
                "step \(number + 1): replicas diverged: \(shards[shard].worker) holds \(StateTensors.hex(reply.weightsChecksum)), another \(StateTensors.hex(other.weightsChecksum))"
            )
        }
        if case .computing = outcomes[shard] { times.backwardCompute = max(times.backwardCompute, reply.computeSeconds) }
        workerSeconds += reply.computeSeconds
        times.aggregate = max(times.aggregate, reply.exchangeSeconds)
        outcomes[shard] = .applied(reply)
        return resolve()
    }

    /// A shard's backward or sum failed (its worker left, or could not reach a peer); the
    /// resolution once every shard's outcome is in.
    public mutating func failed(shard: Int) -> Resolution? {
        guard phase == .backward else { return nil }
        outcomes[shard] = .failed
        return resolve()
    }

    private mutating func resolve() -> Resolution? {
        var applied: UInt64?
        var stale: [String] = []
        var anyFailed = false
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .computing: return nil
            case .relayed where summed: return nil  // its step may still come
            case .relayed: stale.append(shards[index].worker)
            case .applied(let reply): applied = reply.weightsChecksum
            case .failed:
                anyFailed = true
                stale.append(shards[index].worker)
            }
        }
        if !summed && !anyFailed && applied == nil { return nil }
        times.backward = seconds(since: phaseStarted)
        guard let applied else { return .retry }
        return .committed(checksum: applied, stale: stale)
    }

    /// The replicas took the step: the master is at the next version.
    public mutating func commit(to master: MasterModel, checksum: UInt64) {
        precondition(phase == .backward, "step \(number): commit in phase \(phase)")
        master.advanced(to: master.version + 1, checksum: checksum)
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
