import CProtocol

/// A worker announces itself; `capacity` is how many items it takes at once (credit).
public struct Ready: Equatable, Sendable {
    public var role: Role
    public var workerID: String
    public var capacity: Int
    public var software: String
    /// The run the worker was started for ("" from a worker started without one).
    public var runToken: String
    /// Where the worker serves its results to other workers ("" = results come back inline).
    public var dataEndpoint: String
    /// The worker takes and sends several envelopes in one message, one per frame.
    public var batches: Bool

    public init(
        role: Role, workerID: String, capacity: Int = 1, software: String = "", runToken: String = "", dataEndpoint: String = "",
        batches: Bool = false
    ) {
        (self.role, self.workerID, self.capacity, self.software, self.runToken) = (role, workerID, capacity, software, runToken)
        (self.dataEndpoint, self.batches) = (dataEndpoint, batches)
    }
}

extension Ready: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Ready> {
        let c = arena.message(Comcl__V1__Ready.self, comcl__v1__ready__init)
        c.pointee.role = Wire.lower(role)
        c.pointee.worker_id = arena.string(workerID)
        c.pointee.capacity = UInt32(clamping: capacity)
        c.pointee.software = arena.string(software)
        c.pointee.run_token = arena.string(runToken)
        c.pointee.data_endpoint = arena.string(dataEndpoint)
        c.pointee.batches = batches ? 1 : 0
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Ready>, field: String) throws {
        role = try Role.liftRequired(c.pointee.role, field: "\(field).role")
        workerID = liftString(c.pointee.worker_id)
        guard !workerID.isEmpty else { throw WireError.missingField("\(field).worker_id") }
        capacity = Int(c.pointee.capacity)
        guard (1...4096).contains(capacity) else {
            throw WireError.invalidValue(field: "\(field).capacity", reason: "\(capacity) is outside 1...4096")
        }
        software = liftString(c.pointee.software)
        runToken = liftString(c.pointee.run_token)
        dataEndpoint = liftString(c.pointee.data_endpoint)
        batches = c.pointee.batches != 0
    }
}

public struct Heartbeat: Equatable, Sendable {
    public var sequence: UInt64
    public var inFlight: Int

    public init(sequence: UInt64, inFlight: Int = 0) {
        (self.sequence, self.inFlight) = (sequence, inFlight)
    }
}

extension Heartbeat: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Heartbeat> {
        let c = arena.message(Comcl__V1__Heartbeat.self, comcl__v1__heartbeat__init)
        c.pointee.sequence = sequence
        c.pointee.in_flight = UInt32(clamping: inFlight)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Heartbeat>, field: String) throws {
        sequence = c.pointee.sequence
        inFlight = Int(c.pointee.in_flight)
    }
}

/// One connected peer as a router sees it.
public struct PeerStatus: Equatable, Sendable {
    public var role: Role
    public var workerID: String
    public var heartbeats: UInt64
    public var itemsDone: UInt64
    public var inFlight: Int
    public var lastSeenMsAgo: Double

    public init(role: Role, workerID: String, heartbeats: UInt64, itemsDone: UInt64, inFlight: Int, lastSeenMsAgo: Double) {
        (self.role, self.workerID, self.heartbeats) = (role, workerID, heartbeats)
        (self.itemsDone, self.inFlight, self.lastSeenMsAgo) = (itemsDone, inFlight, lastSeenMsAgo)
    }
}

extension PeerStatus: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__PeerStatus> {
        let c = arena.message(Comcl__V1__PeerStatus.self, comcl__v1__peer_status__init)
        c.pointee.role = Wire.lower(role)
        c.pointee.worker_id = arena.string(workerID)
        c.pointee.heartbeats = heartbeats
        c.pointee.items_done = itemsDone
        c.pointee.in_flight = UInt32(clamping: inFlight)
        c.pointee.last_seen_ms_ago = lastSeenMsAgo
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__PeerStatus>, field: String) throws {
        let p = c.pointee
        self.init(
            role: try Role.liftRequired(p.role, field: "\(field).role"), workerID: liftString(p.worker_id),
            heartbeats: p.heartbeats, itemsDone: p.items_done, inFlight: Int(p.in_flight),
            lastSeenMsAgo: p.last_seen_ms_ago)
    }
}

public struct Status: Equatable, Sendable {
    public var role: Role
    public var workerID: String
    public var state: ServiceState
    public var itemsDone: UInt64 = 0
    public var itemsFailed: UInt64 = 0
    public var uptimeSeconds: Double = 0
    public var peers: [PeerStatus] = []
    public var detail: String = ""

    public init(role: Role, workerID: String, state: ServiceState) {
        (self.role, self.workerID, self.state) = (role, workerID, state)
    }
}

extension Status: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Status> {
        let c = arena.message(Comcl__V1__Status.self, comcl__v1__status__init)
        c.pointee.role = Wire.lower(role)
        c.pointee.worker_id = arena.string(workerID)
        c.pointee.state = Wire.lower(state)
        c.pointee.items_done = itemsDone
        c.pointee.items_failed = itemsFailed
        c.pointee.uptime_s = uptimeSeconds
        (c.pointee.n_peers, c.pointee.peers) = arena.messages(peers)
        c.pointee.detail = arena.string(detail)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Status>, field: String) throws {
        let p = c.pointee
        self.init(
            role: try Role.liftRequired(p.role, field: "\(field).role"), workerID: liftString(p.worker_id),
            state: try ServiceState.liftRequired(p.state, field: "\(field).state"))
        itemsDone = p.items_done
        itemsFailed = p.items_failed
        uptimeSeconds = p.uptime_s
        peers = try PeerStatus.liftAll(p.n_peers, p.peers, field: "\(field).peers")
        detail = liftString(p.detail)
    }
}

public struct StatusRequest: Equatable, Sendable {
    public init() {}
}

extension StatusRequest: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__StatusRequest> {
        arena.message(Comcl__V1__StatusRequest.self, comcl__v1__status_request__init)
    }

    init(lifting c: UnsafePointer<Comcl__V1__StatusRequest>, field: String) throws {}
}

public struct Shutdown: Equatable, Sendable {
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

extension Shutdown: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Shutdown> {
        let c = arena.message(Comcl__V1__Shutdown.self, comcl__v1__shutdown__init)
        c.pointee.reason = arena.string(reason)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Shutdown>, field: String) throws {
        reason = liftString(c.pointee.reason)
    }
}

/// An error reported to a peer (named to stay clear of Swift's `Error`).
public struct ErrorReport: Equatable, Sendable {
    public var code: ErrorCode
    public var message: String
    public var id: WorkID?
    /// The data endpoint that did not answer, when that is why the work failed.
    public var dataEndpoint: String

    public init(code: ErrorCode, message: String, id: WorkID? = nil, dataEndpoint: String = "") {
        (self.code, self.message, self.id, self.dataEndpoint) = (code, message, id, dataEndpoint)
    }
}

extension ErrorReport: CConvertible {
    func lower(in arena: CArena) -> UnsafeMutablePointer<Comcl__V1__Error> {
        let c = arena.message(Comcl__V1__Error.self, comcl__v1__error__init)
        c.pointee.code = Wire.lower(code)
        c.pointee.message = arena.string(message)
        c.pointee.id = id?.lower(in: arena)
        c.pointee.data_endpoint = arena.string(dataEndpoint)
        return c
    }

    init(lifting c: UnsafePointer<Comcl__V1__Error>, field: String) throws {
        code = try ErrorCode.liftRequired(c.pointee.code, field: "\(field).code")
        message = liftString(c.pointee.message)
        id = try WorkID.liftOptional(c.pointee.id, field: "\(field).id")
        dataEndpoint = liftString(c.pointee.data_endpoint)
    }
}
