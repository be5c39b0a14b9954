import Wire

/// Fetches views from augmenters' data endpoints, or patches from croppers' (the data plane): one
/// DEALER per endpoint, kept between fetches; the requests to every endpoint go out before any
/// answer is awaited. Unchecked Sendable: not thread-safe, one thread owns it (a worker
/// service's compute thread, where every work handler runs).
public final class DataClient: @unchecked Sendable {
    /// An answer that has not come within this many seconds means the augmenter is gone (its data
    /// thread answers at once, even while it computes): 10 s moves ~1 GB on loopback, more than a
    /// shard of the paper's batch (~80 MB of 224-px views).
    public static let defaultTimeout = 10.0
    /// Items per Fetch: 64 pairs of 224-px float views are 77 MB, well under the 512 MiB
    /// message limit (WireLimits) that a whole shard of the paper's batch would pass.
    static let itemsPerRequest = 64
    private let context: ZMQContext
    private let options: SocketOptions
    private let name: String
    private let timeout: Double
    private var dealers: [String: ZMQDealer] = [:]
    /// Endpoints that failed, and when: a fetch from one within `failFastSeconds` fails at once
    /// instead of waiting out the timeout again (a worker that left takes a while to be noticed,
    /// and every item that names it would otherwise cost `timeout`).
    private var failedAt: [String: Double] = [:]
    static let failFastSeconds = 30.0
    private let time = SystemTime()

    public init(_ context: ZMQContext, name: String, options: SocketOptions = SocketOptions(), timeout: Double = DataClient.defaultTimeout)
    {
        (self.context, self.name, self.options, self.timeout) = (context, name, options, timeout)
    }

    /// The views of the items wanted from each endpoint (augmenters'). Every request is sent,
    /// then every answer awaited. Throws `DataUnavailable` naming the first endpoint (in name
    /// order) that does not answer in time, refuses, or lacks an item.
    public func fetch(_ wanted: [String: [WorkID]]) throws -> [WorkID: ViewPair] {
        try exchange(wanted) { body in
            guard case .fetched(let fetched) = body else { return nil }
            return (fetched.pairs.map { ($0.id, $0) }, fetched.missing)
        }
    }

    /// The patches of the items wanted from each endpoint (croppers'), as `fetch` does views.
    public func fetchPatches(_ wanted: [String: [WorkID]]) throws -> [WorkID: Patch] {
        try exchange(wanted) { body in
            guard case .fetched(let fetched) = body else { return nil }
            return (fetched.patches.map { ($0.id, $0) }, fetched.missing)
        }
    }

    /// Sends a gradient part to a peer's data endpoint, unanswered (the peer waits for it; a
    /// peer that is gone is noticed by the one waiting).
    public func push(_ part: GradientPart, to endpoint: String) throws {
        try guarded(endpoint) { try dealer(endpoint).send(Envelope(sender: name, body: .gradientPart(part)).encoded()) }
    }

    private func exchange<Value>(
        _ wanted: [String: [WorkID]], read: (Body) -> (found: [(WorkID, Value)], missing: [WorkID])?
    ) throws -> [WorkID: Value] {
        let endpoints = wanted.keys.sorted()
        var chunks: [(endpoint: String, ids: [WorkID])] = []
        for endpoint in endpoints {
            let ids = wanted[endpoint]!
            for start in stride(from: 0, to: ids.count, by: Self.itemsPerRequest) {
                chunks.append((endpoint, Array(ids[start..<min(start + Self.itemsPerRequest, ids.count)])))
            }
        }
        for (endpoint, ids) in chunks {
            try guarded(endpoint) { try dealer(endpoint).send(Envelope(sender: name, body: .fetch(Fetch(ids: ids))).encoded()) }
        }
        var values: [WorkID: Value] = [:]
        for (endpoint, ids) in chunks {  // a DEALER gets its answers in the order it asked
            try guarded(endpoint) {
                guard let frames = try dealer(endpoint).receive(timeout: timeout) else {
                    throw DataUnavailable(endpoint: endpoint, "did not answer within \(timeout) s", unanswered: true)
                }
                let reply = try Envelope.decode(frames: frames)
                if case .error(let report) = reply.body { throw DataUnavailable(endpoint: endpoint, "refused: \(report.message)") }
                guard let (found, missing) = read(reply.body) else {
                    throw DataUnavailable(endpoint: endpoint, "answered \(reply.body.kind)")
                }
                guard missing.isEmpty else {
                    throw DataUnavailable(endpoint: endpoint, "no longer keeps \(missing.count) of the \(ids.count) items asked for")
                }
                for (id, value) in found { values[id] = value }
            }
        }
        return values
    }

    /// Runs `body`; on any failure forgets every socket (a late answer must not be taken for a
    /// later fetch's) and throws `DataUnavailable`.
    private func guarded(_ endpoint: String, _ body: () throws -> Void) throws {
        if let failed = failedAt[endpoint], time.now() - failed < Self.failFastSeconds {
            throw DataUnavailable(
                endpoint: endpoint, "did not answer \(Int(time.now() - failed)) s ago; not asked again yet", unanswered: true)
        }
        do { try body() } catch {
            if (error as? DataUnavailable)?.unanswered == true { failedAt[endpoint] = time.now() }
            for (_, dealer) in dealers { dealer.socket.close() }
            dealers = [:]
            throw error as? DataUnavailable ?? DataUnavailable(endpoint: endpoint, "failed: \(error)")
        }
    }

    private func dealer(_ endpoint: String) throws -> ZMQDealer {
        if let dealer = dealers[endpoint] { return dealer }
        let dealer = try ZMQDealer(context, connect: endpoint, options: options)
        dealers[endpoint] = dealer
        return dealer
    }

}

/// Views kept at a data endpoint could not be fetched: the coordinator re-makes them.
public struct DataUnavailable: WorkError, CustomStringConvertible {
    public let dataEndpoint: String
    public let reason: String
    /// It did not answer at all (as against refusing, or no longer keeping an item).
    let unanswered: Bool
    public var code: ErrorCode { .unavailable }
    public var description: String { "the data endpoint \(dataEndpoint) \(reason)" }

    public init(endpoint: String, _ reason: String, unanswered: Bool = false) {
        (dataEndpoint, self.reason, self.unanswered) = (endpoint, reason, unanswered)
    }
}
