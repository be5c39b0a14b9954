import Contrastive
import Coordination
import Domain
import Foundation
import Logging
import Transport
import Wire

/// The miner/loss coordinator's training loop (docs/training.md), driven by the coordinator
/// service's event loop: plan -> patches -> views (prefetched) -> sharded forward on the
/// embedding workers -> loss and dL/dz -> backward on the same workers, which sum their
/// gradients among themselves and each take the step -> metrics and checkpoints (the state
/// fetched from a replica). If an embedding worker leaves mid-step, the step is committed when
/// any replica took it (the others get the state before their next forward) or redone on the
/// workers left (a new attempt); nothing else is lost.
public final class TrainingRun: CoordinatorDriver {
    public let config: TrainingConfig
    public let folder: URL
    let master: MasterModel
    let loss: MultiLevelLoss
    let planner: BatchPlanner
    let logger: Logger
    private let metrics: MetricsLog
    private let scalarLogs: ScalarLogs
    /// Hears the run's state in Prometheus text after every step (the coordinator's /metrics).
    public var publish: ((String) -> Void)?
    /// Faults absorbed since this process started, by kind (Prometheus counters).
    private var faultTotals: [String: Int] = [:]
    private var pipeline: PatchPipeline!
    private var links: [Role: WorkDistributor] = [:]

    /// The next step to run (= steps done).
    public private(set) var step: Int
    public private(set) var failure: String?
    public private(set) var finished = false
    public private(set) var last: StepRecord?
    /// The step on the embedding workers.
    private var current: TrainingStep?
    /// The next step, taken from the pipeline while this one is on the workers, with its shard
    /// inputs already built, so the workers do not wait for the coordinator between steps.
    private var next: TrainingStep?
    private let writer: CheckpointWriter
    private var stepEnded = clock.now()
    /// The process's CPU seconds when the last step ended (after its checkpoint).
    private var cpuAtStepEnd = processCPUSeconds()
    private var workerVersions: [String: UInt64] = [:]
    /// The state asked of a replica (for a checkpoint, or for a worker that needs the state).
    private var stateRequest: (id: ShardID, worker: String)?
    private var stateRequests = 0
    /// A checkpoint waits for the state (`checkpointOutcome`: the step's loss, for its SPL state).
    private var checkpointDue = false
    private var checkpointOutcome: LossOutcome?
    /// Each augmenter's data endpoint ("" for one that answers inline), by worker id.
    private var dataEndpoints: [String: String] = [:]
    /// The attempt number the next `TrainingStep` of a step starts at (a step taken again after
    /// its views were lost keeps counting).
    private var nextAttempt: [Int: Int] = [:]
    /// Where a step's attempts start: past every attempt of the steps taken before a rewind,
    /// whose work ids the embedding link has seen answered.
    private var attemptBase = 0
    private var announcedWait = false
    /// Faults since the last step record.
    private var faults = StepRecord.Faults()
    /// Each link's byte counters at the last step record.
    private var bytesAtRecord: [Role: StepRecord.LinkBytes] = [:]
    private let runStarted = clock.now()
    private let firstStep: Int
    static let maxStepAttempts = 10
    /// Embedding workers a step waits for (the shard count, hence the float summation order).
    public let minWorkers: Int
    /// How the step's batch-norm blocks are shared among the workers, and their measured speeds.
    public let balance: Balance
    private var speeds = WorkerSpeeds()
    /// The last split logged (each worker's patches), to log a change once.
    private var splitLogged: [String] = []
    private let export: ViewExport?

    /// `entries`: the training images (paths under the croppers' data root) and their levels.
    /// `resume`: continue from the run folder's latest checkpoint (an error if there is none).
    /// `exportViews`: a folder for each step's views and the initial weights (ViewExport).
    public init(
        config: TrainingConfig, entries: [(image: String, level: Level)], folder: URL, resume: Bool, minWorkers: Int = 1,
        balance: Balance = .auto, exportViews: URL? = nil,
        logger: Logger
    ) throws {
        try config.validate()
        (self.config, self.folder, self.logger, self.minWorkers, self.balance) = (config, folder, logger, max(1, minWorkers), balance)
        export = exportViews.map(ViewExport.init)
        loss = try config.loss()
        planner = try BatchPlanner(entries: entries, needed: try config.levelsNeeded(), batch: config.batch, seed: config.seed)
        master = MasterModel(
            config.model, seed: config.seed, learningRate: Float(config.learningRate), weightDecay: Float(config.weightDecay))
        try Checkpoint.checkStart(folder, config: config, resume: resume)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if resume, let checkpoint = try Checkpoint.latest(folder) {
            let state = try Checkpoint.load(checkpoint, into: master, config: config)
            step = state.step
            logger.info(
                "resumed from \(checkpoint.lastPathComponent): step \(step) of \(config.steps), weights \(String(master.checksum, radix: 16))"
            )
        } else {
            step = 0
            for stale in ["metrics.jsonl", "metrics.csv", "tensorboard"] {
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(stale))
            }
        }
        firstStep = step
        if step == 0, let initial = config.initWeights {
            try initial.load(into: master.model)
            master.restored(version: 0)
            logger.info("starting from the backbone of \(initial.path) (weights \(String(master.checksum, radix: 16)))")
        }
        if step == 0 { try export?.initial(master.model) }
        metrics = try MetricsLog(folder.appendingPathComponent("metrics.jsonl"))
        scalarLogs = try ScalarLogs(run: folder)
        writer = CheckpointWriter(run: folder)
        try config.save(to: folder.appendingPathComponent("config.json"))
        for (level, count) in planner.shortLevels {
            logger.warning(
                "level \(level) has \(count) images for \(planner.perLevel) per step: its images repeat within a step (the crops and views still differ)"
            )
        }
        logger.info(
            "training \(config.model) mode \(config.mode.rawValue), pairings \(loss.pairings.map(\.description).joined(separator: ", ")), batch \(config.batch) (bn groups of \(config.bnGroup)), \(config.steps) steps, seed \(config.seed)"
        )
        if let warning = config.shortScheduleWarning { logger.warning("\(warning)") }
    }

    public func attach(_ distributors: [Role: WorkDistributor]) {
        links = distributors
        for role in [Role.detectorCropper, .augmenter, .embeddingWorker] where links[role] == nil {
            failure = "the coordinator has no \(role) link"
            finished = true
        }
        pipeline = PatchPipeline(
            config: config, planner: planner, firstStep: step, logger: logger,
            requestPatch: { [unowned self] in links[.detectorCropper]?.submit(.patchRequest($0)) },
            requestViews: { [unowned self] in links[.augmenter]?.submit(.augmentRequest($0)) },
            remakeViews: { [unowned self] in links[.augmenter]?.resubmit(.augmentRequest($0)) },
            recutPatch: { [unowned self] in links[.detectorCropper]?.resubmit(.patchRequest($0)) })
        if step >= config.steps { finish() }
    }

    public var statusLine: String {
        if let failure { return "training failed: \(failure)" }
        if finished { return "training finished: \(step)/\(config.steps) steps" }
        return last?.progressLine
            ?? "training: step \(step + 1)/\(config.steps) starting (\(pipeline?.inFlight ?? 0) patches in the pipeline)"
    }

    // MARK: events

    public func handle(_ events: [DistributorEvent], on role: Role) {
        for event in events {
            switch event {
            case .lost(_, _, let reissued):
                faults.workersLeft["\(role)", default: 0] += 1
                faults.reissued += reissued
            case .timedOut: faults.reissued += 1
            case .duplicate: faults.duplicates += 1
            default: break
            }
            switch (role, event) {
            case (.detectorCropper, .result(_, .patch(let patch), _)): pipeline.received(patch)
            case (.detectorCropper, .result(_, .patchStored(let stored), _)): pipeline.received(stored)
            case (.augmenter, .result(_, .viewPair(let pair), _)): pipeline.received(pair)
            case (.augmenter, .result(_, .viewsStored(let stored), _)): pipeline.received(stored)
            case (.augmenter, .joined(let ready)): dataEndpoints[ready.workerID] = ready.dataEndpoint
            case (.augmenter, .lost(let worker, _, _)):
                if let endpoint = dataEndpoints.removeValue(forKey: worker), !endpoint.isEmpty { viewsLost(at: endpoint) }
            case (.detectorCropper, .failed(let id, let report)), (.augmenter, .failed(let id, let report)): pipeline.failed(id, report)
            case (.embeddingWorker, .result(let id, let body, let worker)): received(id, body, from: worker)
            case (.embeddingWorker, .failed(let id, let report)): shardFailed(id, report)
            case (.embeddingWorker, .lost(let worker, _, _)): workerVersions[worker] = nil  // its failures follow
            default: break
            }
        }
        if let problem = pipeline.failure { fail(problem) }
    }

    public func advance() {
        guard !finished else { return }
        if let problem = writer.failure { return fail(problem) }
        pipeline.fill(current: step)
        if let problem = pipeline.failure { return fail(problem) }
        if checkpointDue {
            checkpointIfHeld()
            if checkpointDue { return }
        }
        // `next` is this step's once the previous ended, unless this step's views were lost since.
        if current == nil, var work = next?.number == step ? next : prepare(step) {
            if work.number == next?.number { next = nil }
            work.times.waitViews = max(0, work.viewsReadyAt - stepEnded)
            current = work
        }
        if current?.phase == .waiting { startForward() }
        // While the workers compute, the coordinator is idle: get the next step ready.
        if next == nil, let phase = current?.phase, phase != .waiting, step + 1 < config.steps { next = prepare(step + 1) }
    }

    private var workerIDs: [String] { links[.embeddingWorker]!.workers.map(\.workerID) }

    /// A step once its views are all in, with its shard inputs built for the workers now
    /// connected (rebuilt at the forward if that changes).
    private func prepare(_ step: Int) -> TrainingStep? {
        guard let views = pipeline.take(step: step) else { return nil }
        do { try export?.write(views, bnGroup: config.bnGroup) } catch {
            fail("step \(step + 1): cannot export its views: \(error)")
            return nil
        }
        let workers = links[.embeddingWorker]!.workers
        let shares = speeds.shares(for: workers, balance: balance) ?? Array(repeating: 1, count: max(workers.count, minWorkers))
        return TrainingStep(views, config: config, shares: shares, attempt: nextAttempt[step, default: attemptBase])
    }

    // MARK: the step on the embedding link

    /// 1. The forward requests, once enough workers are connected.
    private func startForward() {
        let ready = links[.embeddingWorker]!.workers
        let workers = ready.map { (id: $0.workerID, endpoint: $0.dataEndpoint) }
        guard workers.count >= minWorkers else {
            if !announcedWait {
                logger.info("step \(step + 1): views ready, waiting for \(minWorkers) embedding workers (\(workers.count) connected)")
            }
            announcedWait = true
            return
        }
        announcedWait = false
        let needsState = { [self] (worker: String) in workerVersions[worker] != master.version }
        guard master.holdsCurrent || !workers.contains(where: { needsState($0.id) }) else { return requestState() }
        let started = clock.now()
        let requests =
            current?.forward(on: workers, shares: speeds.shares(for: ready, balance: balance), master: master, needsState: needsState) ?? []
        current?.times.other += seconds(since: started)
        logSplit()
        for (worker, request) in requests { submit(.forwardRequest(request), to: worker) }
    }

    /// Logs the step's split when it differs from the last one logged.
    private func logSplit() {
        guard let shards = current?.shards else { return }
        let split = shards.map { "\($0.worker) \($0.patches.count)" }
        guard split != splitLogged else { return }
        splitLogged = split
        let rates = shards.map { speeds.rate(of: $0.worker).map { String(format: "%.1f", $0) } ?? "?" }
        logger.info(
            "step \(step + 1): patches per worker: \(split.joined(separator: ", ")) (rows/s measured: \(rates.joined(separator: ", ")))")
    }

    private func submit(_ body: Body, to worker: String) {
        let (_, events) = links[.embeddingWorker]!.submit(body, to: worker)
        handle(events, on: .embeddingWorker)
    }

    /// 2.-5. A worker's reply: embeddings (the last one computes the loss and sends the backward
    /// requests), a relayed shard's gradients (the last one sends the sum), a replica's step
    /// (the last outcome ends the step), or the state asked for.
    private func received(_ id: WorkID, _ body: Body, from worker: String) {
        if case .stateReply(let reply) = body { return receivedState(reply, id: id, from: worker) }
        guard let work = current else { return }
        do {
            switch body {
            case .embeddings(let reply):
                guard let shard = work.shard(of: id, in: .forward) else { return }
                workerVersions[worker] = reply.weightsVersion
                speeds.forward(worker, rows: reply.samples.count, seconds: reply.computeSeconds)
                let backward = try current?.received(reply, shard: shard, master: master, loss: loss)
                for (worker, request) in backward ?? [] { submit(.backwardRequest(request), to: worker) }
            case .parameterGradients(let reply):
                guard let shard = work.shard(of: id, in: .backward) else { return }
                speeds.backward(worker, seconds: reply.computeSeconds)
                switch try current?.received(reply, shard: shard, master: master) {
                case .sum(let sums): for (worker, sum) in sums { submit(.gradientPart(sum), to: worker) }
                case .resolved(let resolution): resolved(resolution)
                case .waiting, nil: break
                }
            case .stepApplied(let reply):
                guard let shard = work.shard(of: id) else { return }
                workerVersions[worker] = reply.weightsVersion
                if ShardID(id)?.phase == .backward { speeds.backward(worker, seconds: reply.computeSeconds) }
                if let resolution = try current?.received(reply, shard: shard, master: master) { resolved(resolution) }
            default:
                fail("embedding worker \(worker) answered \(id) with \(body.kind)")
            }
        } catch {
            fail("\(error)")
        }
    }

    /// Whether the step may take another attempt (at most `maxStepAttempts` since its views were made).
    private func mayRetry(_ work: TrainingStep) -> Bool { work.attempt + 1 - attemptBase < Self.maxStepAttempts }

    /// Every shard's outcome is in: commit the step, or take it again if no replica took it.
    private func resolved(_ resolution: TrainingStep.Resolution) {
        guard let work = current else { return }
        switch resolution {
        case .retry:
            guard mayRetry(work) else {
                return fail("step \(step + 1): no replica could take the step in \(Self.maxStepAttempts) attempts")
            }
            logger.warning("step \(step + 1): no replica took the step; redoing its forward/backward")
            current?.retry()
        case .committed(let checksum, let stale):
            for worker in stale { workerVersions[worker] = nil }
            if !stale.isEmpty {
                logger.warning("step \(step + 1): taken without \(stale.joined(separator: ", ")), which get the state first")
            }
            current?.commit(to: master, checksum: checksum)
            finishStep()
        }
    }

    /// The record and (every --checkpoint-every steps) a checkpoint, once the replicas took the step.
    private func finishStep() {
        guard let work = current else { return }
        let cpu = processCPUSeconds() - cpuAtStepEnd
        step += 1
        if step % config.checkpointEvery == 0 || step == config.steps { (checkpointDue, checkpointOutcome) = (true, work.outcome) }
        let checkpointStarted = clock.now()
        checkpointIfHeld()
        var finished = work
        finished.times.checkpoint = seconds(since: checkpointStarted)
        record(finished, cpu: cpu)
        current = nil
        pipeline.release(step: work.number)
        nextAttempt[work.number] = nil
        stepEnded = clock.now()
        cpuAtStepEnd = processCPUSeconds()
        if step >= config.steps && !checkpointDue { finish() }
    }

    // MARK: the state from a replica

    /// A due checkpoint, taken now if the master holds the current state, else asked of a replica.
    private func checkpointIfHeld() {
        guard checkpointDue else { return }
        guard master.holdsCurrent else { return requestState() }
        saveCheckpoint(checkpointOutcome)
        (checkpointDue, checkpointOutcome) = (false, nil)
    }

    /// Asks an up-to-date replica for its state (once at a time).
    private func requestState() {
        guard stateRequest == nil, !finished else { return }
        guard let source = workerIDs.first(where: { workerVersions[$0] == master.version }) else {
            if workerIDs.isEmpty { return }  // wait for workers; one that took the step may come back
            return rewind()
        }
        stateRequests += 1
        let id = ShardID(run: config.run, step: Int(master.version), attempt: 0, shard: stateRequests % ShardID.fieldLimit, phase: .state)
        stateRequest = (id, source)
        submit(.stateRequest(StateRequest(id: id.workID)), to: source)
    }

    private func receivedState(_ reply: StateReply, id: WorkID, from worker: String) {
        guard let request = stateRequest, ShardID(id) == request.id else { return }
        stateRequest = nil
        do { try master.load(reply.state, from: worker) } catch { return fail("\(error)") }
        pipeline.forget(before: Int(master.heldVersion))
        checkpointIfHeld()
        if step >= config.steps && !checkpointDue { finish() }
    }

    private func record(_ work: TrainingStep, cpu: Double) {
        var record = StepRecord(step: step - 1, steps: config.steps, batch: config.batch, outcome: work.outcome!)
        var times = work.times
        times.total = seconds(since: stepEnded)
        record.times = times
        let elapsed = seconds(since: runStarted)
        let done = step - firstStep
        record.patchesPerSecond = Double(done * config.batch) / max(elapsed, 1e-9)
        record.etaSeconds = elapsed / Double(done) * Double(config.steps - step)
        record.workers = work.shards.count
        record.workerBusy = work.workerSeconds / (Double(work.shards.count) * max(times.total, 1e-9))
        record.coordinatorShare = cpu / max(times.total - times.checkpoint, 1e-9)
        record.attempts = work.attempt + 1
        record.replaced = work.views.replaced
        record.sources = work.views.sources
        record.checksum = String(master.checksum, radix: 16)
        record.learningRate = config.learningRate(at: step - 1)
        record.items = String(work.views.digest, radix: 16)
        record.linkBytes = linkBytesSinceRecord()
        faults.dropped += pipeline.takeDropped()
        faults.patchesRecut = (faults.patchesRecut ?? 0) + pipeline.takeRecut()
        record.faults = faults
        faults = StepRecord.Faults()
        last = record
        logger.info("\(record.progressLine)")
        for (kind, count) in [
            ("workers_left", record.faults?.workersLeft.values.reduce(0, +) ?? 0), ("items_reissued", record.faults?.reissued ?? 0),
            ("views_remade", record.faults?.viewsRemade ?? 0), ("patches_recut", record.faults?.patchesRecut ?? 0),
            ("steps_taken_again", record.faults?.stepsTakenAgain ?? 0), ("step_attempts_redone", record.attempts - 1),
        ] {
            faultTotals[kind, default: 0] += count
        }
        publish?(PrometheusText.exposition(record, faults: faultTotals))
        do {
            try metrics.append(record)
            try scalarLogs.append(record)
        } catch {
            fail("cannot write metrics: \(error)")
        }
    }

    private func linkBytesSinceRecord() -> [String: StepRecord.LinkBytes] {
        var since: [String: StepRecord.LinkBytes] = [:]
        for (role, link) in links {
            let now = StepRecord.LinkBytes(received: link.bytesIn, sent: link.bytesOut)
            let before = bytesAtRecord[role] ?? StepRecord.LinkBytes()
            since["\(role)"] = StepRecord.LinkBytes(received: now.received - before.received, sent: now.sent - before.sent)
            bytesAtRecord[role] = now
        }
        return since
    }

    private func saveCheckpoint(_ outcome: LossOutcome?) {
        var state = CheckpointState(step: step, config: config, checksum: String(master.checksum, radix: 16))
        state.spl = ["k_min": Double(config.kMin), "rho0": config.rho0, "steps": Double(config.steps)]
        if let outcome { for p in outcome.pairings { state.spl["k_last.\(p.pairing)"] = Double(p.hardNegatives) } }
        do {
            writer.submit(try Checkpoint.snapshot(master, state: state), logger: logger)
        } catch {
            fail("cannot write the checkpoint of step \(step): \(error)")
        }
    }

    /// No connected replica holds the current weights (every one that took the last steps left at
    /// once): the run goes on from the coordinator's copy (the last checkpoint, or a state fetched
    /// since) and takes the steps after it again, with the same views, so it ends the same.
    private func rewind() {
        let lost = master.rewind()
        let from = Int(master.version)
        logger.warning(
            "no embedding worker holds the weights of step \(lost) any more (every replica that took it left): going on from the coordinator's copy at step \(from) and taking steps \(from + 1)-\(lost) again"
        )
        step = from
        (current, next, nextAttempt, workerVersions) = (nil, nil, [:], [:])
        (checkpointDue, checkpointOutcome) = (false, nil)
        attemptBase += Self.maxStepAttempts
        pipeline.rewind(to: from)
        faults.stepsTakenAgain = (faults.stepsTakenAgain ?? 0) + Int(lost) - from
    }

    /// An embedding item failed: its worker left (redo the step's embedding work on the workers
    /// left), it could not fetch views from an augmenter (make them again, then redo), or the
    /// worker refused it (a bug or a mismatch: stop with its message).
    private func shardFailed(_ id: WorkID, _ report: ErrorReport) {
        if let request = stateRequest, ShardID(id) == request.id {
            guard report.code == .unavailable else { return fail("the state of \(request.worker): \(report.message)") }
            workerVersions[request.worker] = nil  // advance() asks another
            stateRequest = nil
            return
        }
        guard let work = current, let shard = work.shard(of: id) else { return }
        guard report.code == .unavailable else { return fail("step \(step + 1) shard \(shard): \(report.message)") }
        if work.phase == .backward {
            // Its peers may still take the step: wait for every shard's outcome.
            logger.warning("step \(step + 1): \(report.message)")
            workerVersions[work.shards[shard].worker] = nil
            if let resolution = current?.failed(shard: shard) { resolved(resolution) }
            return
        }
        // Workers coming and going is normal; a step that cannot get through in 10 tries is not.
        guard mayRetry(work) else {
            return fail("step \(step + 1): embedding work failed \(Self.maxStepAttempts) times; last: \(report.message)")
        }
        logger.warning("step \(step + 1): \(report.message); redoing the step's forward/backward")
        workerVersions[work.shards[shard].worker] = nil  // it may come back without our weights
        if !report.dataEndpoint.isEmpty { viewsLost(at: report.dataEndpoint) }
        current?.retry()  // advance() starts the forward again
    }

    /// Views kept at `endpoint` are gone: the pipeline makes them again, and a step holding any
    /// of them is taken again once they are in (its attempt count goes on).
    private func viewsLost(at endpoint: String) {
        let (steps, items) = pipeline.remake(at: endpoint)
        faults.viewsRemade = (faults.viewsRemade ?? 0) + items
        for work in [current, next].compactMap({ $0 }) where steps.contains(work.number) {
            nextAttempt[work.number] = work.attempt + 1
            if work.number == current?.number { current = nil } else { next = nil }
        }
    }

    private func fail(_ reason: String) {
        guard failure == nil else { return }
        failure = reason
        finished = true
        writer.wait()  // checkpoints already taken still reach the disk
        logger.error("training stopped: \(reason)")
    }

    private func finish() {
        writer.wait()
        if let problem = writer.failure { return fail(problem) }
        finished = true
        logger.info("training finished: \(step) steps, weights \(String(master.checksum, radix: 16)) in \(Checkpoint.folder(folder).path)")
    }
}
