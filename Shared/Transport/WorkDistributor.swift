import Logging
import Wire

/// What happened on a work link, for the owner of the distributor to act on.
public enum DistributorEvent: Equatable, Sendable {
    case joined(Ready)
    case lost(workerID: String, reason: String, reissued: Int)
    case result(WorkID, Body, workerID: String)
    /// A result for an item already answered: dropped (results are idempotent).
    case duplicate(WorkID, workerID: String)
    /// An item re-issued because its deadline passed.
    case timedOut(WorkID, workerID: String, attempt: Int)
    /// An item that will not be retried.
    case failed(WorkID, ErrorReport)
    /// A message we refused (malformed, another protocol version, wrong role...).
    case rejected(workerID: String, reason: String)
    /// An error a worker reported about a message of ours (not about an item).
    case peerError(workerID: String, ErrorReport)
}

/// The ROUTER side of the reliable work-distribution block (docs/architecture.md section 4):
/// workers announce Ready with a capacity (credit) and heartbeat; items are handed out
/// within each worker's credit and tracked with deadlines; items of a worker that goes
/// silent, says goodbye or misses a deadline are re-issued; a result is kept once.
///
/// Not thread-safe: one thread owns a distributor and its socket.
public final class WorkDistributor {
    public let role: Role
    public let name: String
    public let config: DistributorConfig
    private let endpoint: RouterEndpoint
    private let time: MonotonicTime
    private let logger: Logger

    private struct Peer {
        var ready: Ready
        var lastSeen: Double
        var heartbeats: UInt64 = 0
        var itemsDone: UInt64 = 0
        var assigned = 0
        let joined: Int
    }

    private var peers: [PeerID: Peer] = [:]
    private var joinCounter = 0
    private var table = InFlightTable()
    private var lastHeartbeatSent = -Double.infinity
    private var heartbeatSequence: UInt64 = 0
    private let started: Double
    /// Payload bytes received and sent on this link since it started (what a step costs the
    /// process that owns the link: `StepRecord.linkBytes`).
    public private(set) var bytesIn = 0
    public private(set) var bytesOut = 0

    public init(
        role: Role, name: String, endpoint: RouterEndpoint, config: DistributorConfig = DistributorConfig(),
        time: MonotonicTime = SystemTime(), logger: Logger = Logger(label: "comcl.distributor")
    ) {
        self.role = role
        self.name = name
        self.endpoint = endpoint
        self.config = config
        self.time = time
        self.logger = logger
        started = time.now()
    }

    // MARK: state

    /// Items submitted and not yet answered or failed.
    public var outstanding: Int { table.items.count }
    public var pending: Int { table.pendingCount }
    public var workerCount: Int { peers.count }
    public var workers: [Ready] { peers.values.sorted { $0.joined < $1.joined }.map(\.ready) }

    public var peerStatus: [PeerStatus] {
        let now = time.now()
        return peers.values.sorted { $0.joined < $1.joined }.map {
            PeerStatus(
                role: $0.ready.role, workerID: $0.ready.workerID, heartbeats: $0.heartbeats, itemsDone: $0.itemsDone,
                inFlight: $0.assigned, lastSeenMsAgo: (now - $0.lastSeen) * 1000)
        }
    }

    // MARK: work

    /// Queues a request (its body must carry a WorkID). Returns false for an id already
    /// submitted: submitting is idempotent too.
    @discardableResult
    public func submit(_ body: Body) -> Bool {
        guard let id = body.workID else { preconditionFailure("\(body.kind) carries no WorkID and cannot be distributed") }
        return table.submit(id, request: Envelope(sender: name, body: body).encoded())
    }

    /// Queues a request again under an id already answered, because its result was lost after
    /// it arrived (views kept by an augmenter that left). The same id gives the same result.
    @discardableResult
    public func resubmit(_ body: Body) -> Bool {
        guard let id = body.workID else { preconditionFailure("\(body.kind) carries no WorkID and cannot be distributed") }
        table.forgetCompletion(id)
        return submit(body)
    }

    /// Queues a request that only the worker named `workerID` may take, because it needs state
    /// that worker holds (an embedding worker's activations for a backward pass). It has no
    /// deadline (the worker's heartbeats say it is alive and computing) and is never re-issued:
    /// if that worker leaves or is unknown, the item fails with `unavailable`, for the owner to redo.
    /// Returns false for an id already submitted.
    @discardableResult
    public func submit(_ body: Body, to workerID: String) -> (accepted: Bool, events: [DistributorEvent]) {
        guard let id = body.workID else { preconditionFailure("\(body.kind) carries no WorkID and cannot be distributed") }
        guard let peer = peers.filter({ $0.value.ready.workerID == workerID }).min(by: { $0.value.joined < $1.value.joined }) else {
            guard !table.isKnown(id) else { return (false, []) }
            return (true, [.failed(id, ErrorReport(code: .unavailable, message: "\(role) \(workerID) is not connected", id: id))])
        }
        return (table.submit(id, request: Envelope(sender: name, body: body).encoded(), pinned: peer.key), [])
    }

    /// Sends a message to every registered worker (a Shutdown...).
    public func broadcast(_ body: Body) -> [DistributorEvent] {
        let payload = Envelope(sender: name, body: body).encoded()
        return peers.keys.flatMap { sendOrDrop(payload, to: $0) }
    }

    /// Hands out queued work now, without waiting for the next `poll`/`service`: an owner that
    /// submits from an event handler calls it so an item is not held back by a poll timeout
    /// (up to 100 ms a hop in the coordinator's loop; 15 % of a small training step).
    public func flush() -> [DistributorEvent] { dispatch(now: time.now()) }

    /// Receives what arrives within `timeout` seconds (then everything already queued),
    /// and services timers and dispatch.
    public func poll(timeout: Double) throws -> [DistributorEvent] {
        var events: [DistributorEvent] = []
        var wait = timeout
        while let message = try endpoint.receive(timeout: wait) {
            bytesIn += message.frames.reduce(0) { $0 + $1.count }
            events += handle(message)
            wait = 0
        }
        return events + service()
    }

    /// Expires silent workers and late items, sends heartbeats, hands out queued work.
    public func service() -> [DistributorEvent] {
        let now = time.now()
        var events: [DistributorEvent] = []
        for (peer, state) in peers where now - state.lastSeen > config.silenceLimit {
            events += dropPeer(peer, reason: "silent for \(Int(now - state.lastSeen)) s")
        }
        for id in table.expired(at: now) {
            guard let peer = table.items[id]?.peer else { continue }
            peers[peer]?.assigned -= 1
            let attempts = table.requeue(id)
            let worker = peers[peer]?.ready.workerID ?? "?"
            logger.warning("item \(id) timed out on \(worker) (attempt \(attempts))")
            events.append(.timedOut(id, workerID: worker, attempt: attempts))
            if attempts >= config.maxAttempts {
                events.append(failItem(id, ErrorReport(code: .internalError, message: "no answer after \(attempts) attempts", id: id)))
            }
        }
        if now - lastHeartbeatSent >= config.heartbeatInterval {
            lastHeartbeatSent = now
            heartbeatSequence += 1
            let beat = Envelope(sender: name, body: .heartbeat(Heartbeat(sequence: heartbeatSequence))).encoded()
            for peer in peers.keys { events += sendOrDrop(beat, to: peer) }
        }
        return events + dispatch(now: now)
    }

    private func dispatch(now: Double) -> [DistributorEvent] {
        var events: [DistributorEvent] = []
        var waiting: [WorkID] = []  // items no peer can take now, put back in their order
        var poolFull = false
        // What goes to each peer that takes batches, sent as one message after the pass.
        var batches: [(peer: PeerID, requests: [[UInt8]])] = []
        while let id = table.nextPending() {
            guard let item = table.items[id] else { continue }
            let peer: PeerID?
            if let pin = item.pinned {
                peer = peers[pin].flatMap { $0.assigned < $0.ready.capacity ? pin : nil }
            } else {
                peer = poolFull ? nil : peerWithCredit(avoiding: item.previousPeer)
                poolFull = peer == nil
            }
            guard let peer else {
                waiting.append(id)
                // No peer has credit left, so nothing else can go in this pass, pinned or not:
                // the coordinator dispatches every link on each turn of its loop, and walking
                // the hundreds of queued pipeline items each time was its busiest code (`perf`,
                // the demo's batch of 128).
                if poolFull { break }
                continue
            }
            // Pinned items have no deadline: only their worker can answer, and its heartbeats say it lives.
            let request = table.assign(id, to: peer, deadline: item.pinned == nil ? now + config.itemTimeout : .infinity)
            peers[peer]!.assigned += 1
            guard peers[peer]!.ready.batches else {
                // On failure the peer is dropped and its items (this one too) requeued.
                events += sendOrDrop([request], to: peer)
                continue
            }
            if let index = batches.firstIndex(where: { $0.peer == peer }) {
                batches[index].requests.append(request)
            } else {
                batches.append((peer, [request]))
            }
        }
        for id in waiting.reversed() { table.unpop(id) }
        for batch in batches { events += sendOrDrop(batch.requests, to: batch.peer) }
        return events
    }

    /// The least-loaded worker with free credit, ties to the earliest joined; the worker
    /// an item just failed or timed out on only when no other has credit.
    private func peerWithCredit(avoiding previous: PeerID?) -> PeerID? {
        let free = peers.filter { $0.value.assigned < $0.value.ready.capacity }
        let others = free.filter { $0.key != previous }
        return (others.isEmpty ? free : others)
            .min { ($0.value.assigned, $0.value.joined) < ($1.value.assigned, $1.value.joined) }?.key
    }

    // MARK: incoming

    public func handle(_ message: RoutedMessage) -> [DistributorEvent] {
        // A batch: each envelope handled alone (a REQ socket's frames are refused below).
        let parts = Envelope.messages(in: message.frames)
        if parts.count > 1 { return parts.flatMap { handle(RoutedMessage(peer: message.peer, frames: $0)) } }
        let peer = message.peer
        let sender = peers[peer]?.ready.workerID ?? printable(peer)
        let envelope: Envelope
        do {
            envelope = try Envelope.decode(frames: message.frames)
        } catch {
            return reject(peer, sender, error.code, "\(error)")
        }
        peers[peer]?.lastSeen = time.now()

        switch envelope.body {
        case .ready(let ready):
            return register(peer, ready)
        case .statusRequest:
            var status = Status(role: .coordinator, workerID: name, state: .running)
            status.peers = peerStatus
            status.uptimeSeconds = time.now() - started
            status.detail = "\(role) link: \(peers.count) workers, \(outstanding) items outstanding"
            return sendOrDrop(Envelope(sender: name, body: .status(status)).encoded(), to: peer)
        case .heartbeat:
            guard peers[peer] != nil else { return askForReady(peer, sender, "heartbeat") }
            peers[peer]!.heartbeats += 1
            return []
        case .status(let status):
            guard peers[peer] != nil else { return [] }
            return status.state == .stopped ? dropPeer(peer, reason: "stopped") : []
        case .error(let report):
            return workerError(peer, sender, report)
        case .shutdown:
            return reject(peer, sender, .unsupported, "a worker may not send \(envelope.body.kind) to a router")
        default:
            guard let id = envelope.body.workID else {
                return reject(peer, sender, .unsupported, "\(envelope.body.kind) is not a result")
            }
            var events = accept(id, envelope.body, from: peer, sender)
            if peers[peer] == nil { events += askForReady(peer, sender, envelope.body.kind) }
            return events
        }
    }

    private func register(_ peer: PeerID, _ ready: Ready) -> [DistributorEvent] {
        guard ready.role == role else {
            return reject(peer, ready.workerID, .wrongRole, "this endpoint serves \(role) workers; you announced \(ready.role)")
        }
        guard config.runToken.isEmpty || ready.runToken == config.runToken else {
            let started = ready.runToken.isEmpty ? "without a run token" : "for run \(ready.runToken.prefix(8))"
            return reject(
                peer, ready.workerID, .wrongRun,
                "this coordinator serves run \(config.runToken.prefix(8)); \(ready.workerID) was started \(started) (two runs on the same ports? give each its own --base-port)"
            )
        }
        if var known = peers[peer] {
            known.ready = ready  // a re-announce (the worker lost contact): keep its items
            peers[peer] = known
        } else {
            joinCounter += 1
            peers[peer] = Peer(ready: ready, lastSeen: time.now(), joined: joinCounter)
            logger.info("\(role) \(ready.workerID) joined (capacity \(ready.capacity))")
        }
        return [.joined(ready)]
    }

    private func accept(_ id: WorkID, _ body: Body, from peer: PeerID, _ sender: String) -> [DistributorEvent] {
        let holder = table.items[id]?.peer
        switch table.complete(id) {
        case .first:
            if let holder { peers[holder]?.assigned -= 1 }
            peers[peer]?.itemsDone += 1
            return [.result(id, body, workerID: sender)]
        case .duplicate:
            logger.debug("duplicate result for \(id) from \(sender) dropped")
            return [.duplicate(id, workerID: sender)]
        case .unknown:
            logger.warning("result for unknown item \(id) from \(sender) dropped")
            return [.rejected(workerID: sender, reason: "result for unknown item \(id)")]
        }
    }

    private func workerError(_ peer: PeerID, _ sender: String, _ report: ErrorReport) -> [DistributorEvent] {
        if report.code == .unknownPeer { return [] }
        guard let id = report.id, let item = table.items[id], item.peer == peer else {
            logger.error("\(sender) reports: \(report.message)")
            return [.peerError(workerID: sender, report)]
        }
        peers[peer]?.assigned -= 1
        switch report.code {
        case .badInput, .notFound, .malformed, .unsupported, .unavailable:
            return [failItem(id, report)]  // the same input would fail again
        default:
            let attempts = table.requeue(id)
            logger.warning("\(sender) failed \(id) (attempt \(attempts)): \(report.message)")
            return attempts >= config.maxAttempts ? [failItem(id, report)] : []
        }
    }

    private func failItem(_ id: WorkID, _ report: ErrorReport) -> DistributorEvent {
        table.fail(id)
        logger.error("item \(id) failed: \(report.message)")
        return .failed(id, report)
    }

    // MARK: helpers

    private func dropPeer(_ peer: PeerID, reason: String) -> [DistributorEvent] {
        guard let state = peers.removeValue(forKey: peer) else { return [] }
        let pinned = table.pinned(to: peer)
        let items = table.assigned(to: peer).filter { !pinned.contains($0) }
        for id in items { table.requeue(id) }
        let summary =
            "\(role) \(state.ready.workerID) left (\(reason)); re-issuing \(items.count) items, failing \(pinned.count) pinned to it"
        if reason == "stopped" && items.isEmpty && pinned.isEmpty { logger.info("\(summary)") } else { logger.warning("\(summary)") }
        let failures = pinned.map {
            failItem(
                $0, ErrorReport(code: .unavailable, message: "\(role) \(state.ready.workerID) left (\(reason)) before answering", id: $0))
        }
        return [.lost(workerID: state.ready.workerID, reason: reason, reissued: items.count)] + failures
    }

    private func sendOrDrop(_ payload: [UInt8], to peer: PeerID) -> [DistributorEvent] {
        sendOrDrop([payload], to: peer)
    }

    /// One message of one envelope per frame (a batch when there are several).
    private func sendOrDrop(_ frames: [[UInt8]], to peer: PeerID) -> [DistributorEvent] {
        do {
            try endpoint.send(frames: frames, to: peer)
            bytesOut += frames.reduce(0) { $0 + $1.count }
            return []
        } catch {
            return dropPeer(peer, reason: "unreachable: \(error)")
        }
    }

    private func reject(_ peer: PeerID, _ sender: String, _ code: ErrorCode, _ reason: String) -> [DistributorEvent] {
        logger.error("refused a message from \(sender): \(reason)")
        _ = sendOrDrop(Envelope(sender: name, body: .error(ErrorReport(code: code, message: reason))).encoded(), to: peer)
        return [.rejected(workerID: sender, reason: reason)]
    }

    private func askForReady(_ peer: PeerID, _ sender: String, _ kind: String) -> [DistributorEvent] {
        let report = ErrorReport(code: .unknownPeer, message: "\(kind) from a peer that has not said Ready: send Ready")
        try? endpoint.send(Envelope(sender: name, body: .error(report)).encoded(), to: peer)
        return []
    }

    private func printable(_ peer: PeerID) -> String {
        "peer-" + peer.map { String($0, radix: 16) }.joined()
    }
}
