import Logging
import ServiceKit
import Transport
import Wire

/// The hub every worker connects to: it runs the links (workers join with Ready and heartbeat;
/// the control link answers StatusRequest with every peer and the driver's status line), hands
/// every event to the driver (the training run) and, when the driver is finished or on a stop
/// signal, sends Shutdown and waits for the goodbyes.
public final class CoordinatorService {
    public let name: String
    private let context: ZMQContext
    private let routers: [(role: Role, router: ZMQRouter, distributor: WorkDistributor)]
    private let control: ZMQRouter
    private let logger: Logger
    private let started = SystemTime().now()
    private let driver: CoordinatorDriver?
    private let authenticator: CurveAuthenticator?

    /// `allowedClients`: with CURVE on, the Z85 public keys of the workers (and control clients)
    /// that may connect; any other is refused and logged. nil: any client that knows our key.
    public init(
        name: String, links: Links, config: DistributorConfig, options: SocketOptions, logger: Logger, driver: CoordinatorDriver? = nil,
        allowedClients: [String]? = nil
    ) throws {
        self.name = name
        self.logger = logger
        self.driver = driver
        let context = ZMQContext()
        self.context = context
        // Before any socket binds: libzmq asks the ZAP handler at each CURVE handshake.
        authenticator = try allowedClients.map { try CurveAuthenticator(context: context, allowed: $0, logger: logger) }
        routers = try Links.workerRoles.compactMap { role in
            guard let endpoint = links.workers[role] else { return nil }
            let router = try ZMQRouter(context, bind: endpoint, options: options)
            var roleLogger = logger
            roleLogger[metadataKey: "link"] = "\(role)"
            try router.monitor(as: "\(role) link", logger: roleLogger)
            let distributor = WorkDistributor(role: role, name: name, endpoint: router, config: config, logger: roleLogger)
            return (role, router, distributor)
        }
        control = try ZMQRouter(context, bind: links.control, options: options)
        // Control clients (comcl status, every healthcheck) connect per request: their closes
        // are routine, so at debug; refused handshakes still warn.
        try control.monitor(as: "control link", closes: .debug, logger: logger)
        for (role, _, _) in routers { logger.info("\(role) link on \(links.workers[role]!)") }
        logger.info("control link on \(links.control)")
        driver?.attach(Dictionary(uniqueKeysWithValues: routers.map { ($0.role, $0.distributor) }))
    }

    /// Serves until `shouldStop`; then asks every worker to stop and waits up to
    /// `drainTimeout` seconds for their goodbyes.
    public func run(shouldStop: () -> Bool, drainTimeout: Double = 8) throws {
        while !shouldStop(), driver?.finished != true {
            try step(timeout: 0.1)
            driver?.advance()
            // What the driver submitted while handling events or advancing goes out now.
            for entry in routers { deliver(entry.distributor.flush(), from: entry.role) }
        }
        logger.info("stopping: asking \(workerCount) workers to shut down")
        for entry in routers { log(entry.distributor.broadcast(.shutdown(Shutdown(reason: "coordinator stopping")))) }
        let deadline = SystemTime().now() + drainTimeout
        while workerCount > 0, SystemTime().now() < deadline { try step(timeout: 0.1) }
        if workerCount > 0 { logger.warning("\(workerCount) workers did not say goodbye within \(drainTimeout) s") }
        logger.info("stopped")
    }

    deinit { authenticator?.stop() }  // its socket closes before the context terminates

    public var workerCount: Int { routers.reduce(0) { $0 + $1.distributor.workerCount } }

    /// Logs a link's events and hands them to the driver.
    private func deliver(_ events: [DistributorEvent], from role: Role) {
        log(events)
        if !events.isEmpty { driver?.handle(events, on: role) }
    }

    private func step(timeout: Double) throws {
        let sockets = routers.map(\.router.socket) + [control.socket]
        let readable = try Poller.wait(for: sockets, timeout: timeout)
        for (index, entry) in routers.enumerated() {
            deliver(readable[index] ? try entry.distributor.poll(timeout: 0) : entry.distributor.service(), from: entry.role)
        }
        if readable.last == true { try answerControl() }
    }

    private func answerControl() throws {
        while let message = try control.receive(timeout: 0) {
            let reply: Body
            switch Result(catching: { () throws(WireError) in try Envelope.decode(frames: message.frames).body }) {
            case .success(.statusRequest):
                var status = Status(role: .coordinator, workerID: name, state: .running)
                status.peers = routers.flatMap(\.distributor.peerStatus)
                status.uptimeSeconds = SystemTime().now() - started
                status.detail = routers.map { "\($0.role): \($0.distributor.workerCount)" }.joined(separator: ", ")
                if let driver { status.detail += "\n" + driver.statusLine }
                reply = .status(status)
            case .success(let body):
                logger.warning("control link: refused \(body.kind)")
                reply = .error(ErrorReport(code: .unsupported, message: "the control link answers StatusRequest only, not \(body.kind)"))
            case .failure(let error):
                logger.warning("control link: refused a message: \(error)")
                reply = .error(ErrorReport(code: error.code, message: "\(error)"))
            }
            try? control.send(Envelope(sender: name, body: reply).encoded(), to: message.peer)
        }
    }

    private func log(_ events: [DistributorEvent]) {
        for event in events {
            switch event {
            case .joined(let ready): logger.info("joined: \(ready.role) \(ready.workerID) (\(ready.software))")
            case .lost(let worker, let reason, let reissued): logger.info("left: \(worker) (\(reason)), \(reissued) items re-issued")
            case .rejected(let worker, let reason): logger.warning("refused \(worker): \(reason)")
            case .peerError(let worker, let report): logger.warning("\(worker) reports \(report.code): \(report.message)")
            case .failed(let id, let report): logger.error("item \(id) failed: \(report.message)")
            case .result, .duplicate, .timedOut: break
            }
        }
    }
}
