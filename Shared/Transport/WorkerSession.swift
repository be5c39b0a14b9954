import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization
import Wire

/// Turns one request (a work item) into its result. Runs on the session's compute thread.
public typealias WorkHandler = @Sendable (Envelope) throws -> Body

public struct WorkerConfig: Sendable {
    public var role: Role
    public var workerID: String
    /// Items held at once: one computing and the rest waiting, so the next item is already
    /// local when the current one finishes. Results go back in batches of up to half of it.
    public var capacity = 2
    /// zguide Paranoid Pirate defaults (1 s, liveness 3), as on the router side.
    public var heartbeatInterval = 1.0
    public var liveness = 3
    /// On SIGTERM the current item may finish within this many seconds; container
    /// runtimes wait 10 s before SIGKILL, so 5 s leaves room for the goodbye.
    public var drainTimeout = 5.0
    public var software = "comcl 0.1.0"
    /// The run this worker was started for, sent in Ready ("" for none: any coordinator that
    /// asks for no token takes it).
    public var runToken = ""
    /// Where this worker serves its results to other workers, sent in Ready ("" = none).
    public var dataEndpoint = ""

    public init(role: Role, workerID: String) {
        self.role = role
        self.workerID = workerID
    }
}

/// The router refused this worker for good (it serves another run): the worker must stop.
public struct SessionRefused: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "the coordinator refused this worker: \(reason)" }
}

public struct WorkerSummary: Sendable, Equatable {
    public var itemsDone = 0
    public var itemsFailed = 0
    public var stopReason = ""
}

/// The DEALER side of the reliable work-distribution block. The calling thread does all
/// socket I/O (Ready, heartbeats, results, goodbye) so heartbeats keep flowing while a
/// long item computes on a separate thread.
public final class WorkerSession {
    private let config: WorkerConfig
    private var dealer: ZMQDealer
    private let context: ZMQContext
    private let endpoint: String
    private let options: SocketOptions
    private let inbox = Inbox()
    private let outbox: Outbox
    private let handler: WorkHandler
    private let logger: Logger
    private let time = SystemTime()

    public init(
        context: ZMQContext, endpoint: String, config: WorkerConfig, options: SocketOptions = SocketOptions(),
        logger: Logger, handler: @escaping WorkHandler
    ) throws {
        self.config = config
        self.handler = handler
        self.logger = logger
        (self.context, self.endpoint, self.options) = (context, endpoint, options)
        dealer = try ZMQDealer(context, connect: endpoint, options: options)
        outbox = try Outbox()
    }

    private func send(_ body: Body) throws {
        try send([Envelope(sender: config.workerID, body: body).encoded()])
    }

    /// The longest a finished result waits for others to go back with it (`HeldReplies`): an
    /// item of the data's first pass, which detects, can take a good part of a second.
    static let batchHoldSeconds = 0.02

    /// A send that blocks past SNDTIMEO means libzmq dropped the link for good: it does not
    /// reconnect after a protocol error, such as a message over ZMQ_MAXMSGSIZE (libzmq
    /// session_base_t::engine_error). Ordinary disconnects keep the queue and reconnect by
    /// themselves. So open a fresh socket, say Ready again, then send (the router answers a
    /// result from a peer it does not know by asking for Ready, and re-issues what we held).
    private func send(_ frames: [[UInt8]]) throws {
        do {
            try dealer.send(frames: frames)
        } catch let error as ZMQError where error.wouldBlock {
            logger.warning(
                "could not send to \(endpoint) for \(options.sendTimeoutMilliseconds) ms (libzmq dropped the link, e.g. after a message over --max-message-bytes); reconnecting"
            )
            dealer.socket.close()
            dealer = try ZMQDealer(context, connect: endpoint, options: options)
            try announce()
            try dealer.send(frames: frames)
        }
    }

    private func announce() throws {
        try send(
            .ready(
                Ready(
                    role: config.role, workerID: config.workerID, capacity: config.capacity, software: config.software,
                    runToken: config.runToken, dataEndpoint: config.dataEndpoint, batches: true)))
    }

    /// Serves until `shouldStop` turns true or the router sends Shutdown, then drains
    /// and says goodbye (Status STOPPED), so the router re-issues what we held.
    public func run(shouldStop: () -> Bool) throws -> WorkerSummary {
        // The compute thread touches no socket: every socket stays on this thread, so
        // closing them at the end flushes the goodbye even if an item is still running.
        let thread = Thread { [inbox, outbox, handler, config] in
            while let request = inbox.take() {
                let reply: Body
                do {
                    reply = try handler(request)
                } catch {
                    let code = (error as? WorkError)?.code ?? .internalError
                    reply = .error(
                        ErrorReport(
                            code: code, message: "\(error)", id: request.body.workID,
                            dataEndpoint: (error as? WorkError)?.dataEndpoint ?? ""))
                }
                var failed = false
                if case .error = reply { failed = true }
                outbox.put(Envelope(sender: config.workerID, body: reply).encoded(), failed: failed)
            }
        }
        thread.name = "compute"
        thread.start()
        defer { inbox.put(nil) }

        var summary = WorkerSummary()
        var waiting: [Envelope] = []
        var busy = false
        var held = HeldReplies(limit: config.capacity / 2, holdSeconds: Self.batchHoldSeconds)
        var stopDeadline: Double?
        var lastHeard = time.now()
        var nextBeat = time.now() + config.heartbeatInterval
        var sequence: UInt64 = 0
        try announce()
        logger.info("\(config.role) \(config.workerID) ready (capacity \(config.capacity))")

        while true {
            if stopDeadline == nil, shouldStop() { summary.stopReason = "signal" }
            if stopDeadline == nil, !summary.stopReason.isEmpty {
                stopDeadline = time.now() + config.drainTimeout
                logger.info("stopping (\(summary.stopReason)); handing back \(waiting.count) queued items")
                waiting.removeAll()  // the router re-issues them after our goodbye
            }
            if let deadline = stopDeadline {
                if !busy { break }
                if time.now() > deadline {
                    logger.warning("current item did not finish within \(config.drainTimeout) s; leaving it to be re-issued")
                    break
                }
            }
            let wait = max(0, min(nextBeat - time.now(), held.deadline - time.now(), 0.1))
            let readable = try Poller.wait(for: [dealer.socket], fileDescriptors: [outbox.wakeDescriptor], timeout: wait)
            if readable[0] {
                while let message = try dealer.receive(timeout: 0) {
                    lastHeard = time.now()
                    for frames in Envelope.messages(in: message) {
                        switch incoming(frames) {
                        case .work(let request) where stopDeadline == nil: waiting.append(request)
                        case .shutdown(let reason): summary.stopReason = summary.stopReason.isEmpty ? reason : summary.stopReason
                        case .refused(let reason):
                            // Not a member of this run: nothing to hand back, no goodbye to say.
                            dealer.socket.close()
                            throw SessionRefused(reason: reason)
                        default: break
                        }
                    }
                }
            }
            if readable[1] {
                for (reply, failed) in outbox.takeAll() {
                    held.add(reply, at: time.now())
                    busy = false
                    if failed { summary.itemsFailed += 1 } else { summary.itemsDone += 1 }
                }
            }
            if !busy, stopDeadline == nil, !waiting.isEmpty {
                inbox.put(waiting.removeFirst())
                busy = true
            }
            let now = time.now()
            if held.due(at: now, computing: busy, queued: waiting.count) { try send(held.take()) }
            if now >= nextBeat {
                sequence += 1
                try send(.heartbeat(Heartbeat(sequence: sequence, inFlight: waiting.count + (busy ? 1 : 0))))
                nextBeat = now + config.heartbeatInterval
            }
            if now - lastHeard > config.heartbeatInterval * Double(config.liveness) {
                logger.warning("router silent for \(Int(now - lastHeard)) s; announcing again")
                try announce()
                lastHeard = now
            }
        }
        if !held.replies.isEmpty { try send(held.take()) }  // finished work goes back before the goodbye
        var goodbye = Status(role: config.role, workerID: config.workerID, state: .stopped)
        goodbye.itemsDone = UInt64(summary.itemsDone)
        goodbye.itemsFailed = UInt64(summary.itemsFailed)
        goodbye.detail = summary.stopReason
        try send(.status(goodbye))
        dealer.socket.close()  // lingers up to SocketOptions.lingerMilliseconds to deliver it
        logger.info("stopped after \(summary.itemsDone) items (\(summary.itemsFailed) failed)")
        return summary
    }

    private enum Incoming {
        case work(Envelope), shutdown(String), refused(String), other
    }

    private func incoming(_ frames: [[UInt8]]) -> Incoming {
        let envelope: Envelope
        do {
            envelope = try Envelope.decode(frames: frames)
        } catch {
            logger.error("refused a message from the router: \(error)")
            try? send(.error(ErrorReport(code: error.code, message: "\(error)")))
            return .other
        }
        switch envelope.body {
        case .heartbeat, .status: return .other
        case .shutdown(let shutdown): return .shutdown("shutdown: \(shutdown.reason)")
        case .error(let report) where report.code == .unknownPeer:
            logger.info("router does not know us (restarted?); announcing again")
            try? announce()
            return .other
        case .error(let report) where report.code == .wrongRun:
            return .refused(report.message)
        case .error(let report):
            logger.error("router reports: \(report.message)")
            return .other
        case .statusRequest:
            try? send(.status(Status(role: config.role, workerID: config.workerID, state: .running)))
            return .other
        default:
            guard envelope.body.workID != nil else {
                try? send(.error(ErrorReport(code: .unsupported, message: "\(config.role) does not handle \(envelope.body.kind)")))
                return .other
            }
            return .work(envelope)
        }
    }
}

/// Hands requests to the compute thread; nil tells it to exit.
private final class Inbox: Sendable {
    private let items = Mutex<[Envelope?]>([])
    private let available = DispatchSemaphore(value: 0)

    func put(_ item: Envelope?) {
        items.withLock { $0.append(item) }
        available.signal()
    }

    func take() -> Envelope? {
        available.wait()
        return items.withLock { $0.removeFirst() }
    }
}

/// Results from the compute thread; a byte on a pipe wakes the I/O thread's poll.
private final class Outbox: @unchecked Sendable {
    private let items = Mutex<[([UInt8], Bool)]>([])
    private let pipeEnds: [Int32]

    init() throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw ZMQError("pipe", code: errno) }
        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        pipeEnds = ends
    }

    deinit { for end in pipeEnds { Glibc.close(end) } }

    var wakeDescriptor: Int32 { pipeEnds[0] }

    func put(_ reply: [UInt8], failed: Bool) {
        items.withLock { $0.append((reply, failed)) }
        var byte: UInt8 = 1
        _ = write(pipeEnds[1], &byte, 1)
    }

    func takeAll() -> [([UInt8], Bool)] {
        var sink = [UInt8](repeating: 0, count: 64)
        while read(pipeEnds[0], &sink, sink.count) > 0 {}
        return items.withLock { taken in
            defer { taken = [] }; return taken
        }
    }
}
