/// Timing and retry policy of a `WorkDistributor`.
public struct DistributorConfig: Sendable {
    /// Heartbeat period both ways. 1 s and a liveness of 3 are the zguide's Paranoid
    /// Pirate defaults: a dead worker is noticed within about 3 s.
    public var heartbeatInterval: Double = 1.0
    public var liveness: Int = 3
    /// An item not answered within this many seconds is re-issued to another worker.
    public var itemTimeout: Double = 30
    /// Attempts per item before it is reported failed (worker errors of kind
    /// `internalError` and timeouts count; `badInput`/`notFound` fail at once).
    public var maxAttempts: Int = 3
    /// The run this router serves: a worker whose Ready names another run is refused, so two runs
    /// that share ports never mix. Empty accepts any worker (hand-started services without one).
    public var runToken = ""

    public init(heartbeatInterval: Double = 1.0, liveness: Int = 3, itemTimeout: Double = 30, maxAttempts: Int = 3, runToken: String = "") {
        self.heartbeatInterval = heartbeatInterval
        self.liveness = liveness
        self.itemTimeout = itemTimeout
        self.maxAttempts = maxAttempts
        self.runToken = runToken
    }

    var silenceLimit: Double { heartbeatInterval * Double(liveness) }
}
