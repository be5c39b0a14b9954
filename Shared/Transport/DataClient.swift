import Wire

/// Fetches views from augmenters' data endpoints (the data plane): one DEALER per endpoint, kept
/// between fetches; the requests to every endpoint go out before any answer is awaited. Not
/// thread-safe: an embedding worker's compute thread owns it.
public final class DataClient {
    /// An answer that has not come within this many seconds means the augmenter is gone (its data
    /// thread answers at once, even while it computes): 10 s moves ~1 GB on loopback, more than a
    /// shard of the paper's batch (~80 MB of 224-px views).
    public static let defaultTimeout = 10.0
    /// Items per FetchViews: 64 pairs of 224-px float views are 77 MB, well under the 256 MiB
    /// message limit (WireLimits) that a whole shard of the paper's batch would pass.
    static let itemsPerRequest = 64
    private let context: ZMQContext
    private let options: SocketOptions
    private let name: String
    private let timeout: Double
    private var dealers: [String: ZMQDealer] = [:]

    public init(_ context: ZMQContext, name: String, options: SocketOptions = SocketOptions(), timeout: Double = DataClient.defaultTimeout)
    {
        (self.context, self.name, self.options, self.timeout) = (context, name, options, timeout)
    }

    /// The views of the items wanted from each endpoint: every request is sent, then every
    /// answer awaited. Throws `DataUnavailable` naming the first endpoint (in name order) that
    /// does not answer in time, refuses, or lacks an item.
    public func fetch(_ wanted: [String: [WorkID]]) throws -> [WorkID: ViewPair] {
        let endpoints = wanted.keys.sorted()
        var chunks: [(endpoint: String, ids: [WorkID])] = []
        for endpoint in endpoints {
            let ids = wanted[endpoint]!
            for start in stride(from: 0, to: ids.count, by: Self.itemsPerRequest) {
                chunks.append((endpoint, Array(ids[start..<min(start + Self.itemsPerRequest, ids.count)])))
            }
        }
        for (endpoint, ids) in chunks {
            try guarded(endpoint) { try dealer(endpoint).send(Envelope(sender: name, body: .fetchViews(FetchViews(ids: ids))).encoded()) }
        }
        var views: [WorkID: ViewPair] = [:]
        for (endpoint, ids) in chunks {  // a DEALER gets its answers in the order it asked
            try guarded(endpoint) {
                guard let frames = try dealer(endpoint).receive(timeout: timeout) else {
                    throw DataUnavailable(endpoint: endpoint, "did not answer within \(timeout) s")
                }
                let reply = try Envelope.decode(frames: frames)
                switch reply.body {
                case .fetchedViews(let fetched):
                    guard fetched.missing.isEmpty else {
                        throw DataUnavailable(
                            endpoint: endpoint, "no longer keeps \(fetched.missing.count) of the \(ids.count) items asked for")
                    }
                    for pair in fetched.pairs { views[pair.id] = pair }
                case .error(let report): throw DataUnavailable(endpoint: endpoint, "refused: \(report.message)")
                default: throw DataUnavailable(endpoint: endpoint, "answered \(reply.body.kind)")
                }
            }
        }
        return views
    }

    /// Runs `body`; on any failure forgets every socket (a late answer must not be taken for a
    /// later fetch's) and throws `DataUnavailable`.
    private func guarded(_ endpoint: String, _ body: () throws -> Void) throws {
        do { try body() } catch {
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
    public var code: ErrorCode { .unavailable }
    public var description: String { "the data endpoint \(dataEndpoint) \(reason)" }

    public init(endpoint: String, _ reason: String) { (dataEndpoint, self.reason) = (endpoint, reason) }
}
