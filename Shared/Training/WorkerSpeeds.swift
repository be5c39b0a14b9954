import Wire

/// How a step's batch-norm blocks are shared among the embedding workers (docs/training.md,
/// "Mixed pools").
public enum Balance: String, CaseIterable, Sendable {
    /// As even as the block count allows: a fixed worker count repeats bit for bit.
    case even
    /// In proportion to each worker's measured speed, so a fast and a slow worker end together.
    case speed
    /// `speed` when the pool mixes kinds of worker (their `Ready.software` differ: another engine
    /// or device), else `even`.
    case auto
}

/// Each embedding worker's measured speed: rows per second of its own compute (forward plus
/// backward and update, without waiting for peers), smoothed over steps.
public struct WorkerSpeeds: Sendable {
    /// The weight of the newest step (the rest is the history): a worker that slows down moves
    /// its share within a few steps, and one noisy step moves it little.
    static let smoothing = 0.3
    private var rates: [String: Double] = [:]
    /// This step's forward per worker (rows, seconds), waiting for its backward.
    private var forwards: [String: (rows: Int, seconds: Double)] = [:]

    public init() {}

    public mutating func forward(_ worker: String, rows: Int, seconds: Double) {
        forwards[worker] = (rows, seconds)
    }

    /// The worker's backward of the shard it last embedded: the step's rate joins its history.
    public mutating func backward(_ worker: String, seconds: Double) {
        guard let forward = forwards.removeValue(forKey: worker), forward.rows > 0 else { return }
        let total = forward.seconds + seconds
        guard total > 0, total.isFinite else { return }
        let rate = Double(forward.rows) / total
        rates[worker] = rates[worker].map { (1 - Self.smoothing) * $0 + Self.smoothing * rate } ?? rate
    }

    public func rate(of worker: String) -> Double? { rates[worker] }

    /// Each worker's share, in the order given; nil for an even split. A worker not measured
    /// yet (one that just joined) counts as the mean of those measured.
    public func shares(for workers: [Ready], balance: Balance) -> [Double]? {
        let proportional =
            switch balance {
            case .even: false
            case .speed: true
            case .auto: Set(workers.map(\.software)).count > 1
            }
        let known = workers.compactMap { rates[$0.workerID] }
        guard proportional, !known.isEmpty else { return nil }
        let mean = known.reduce(0, +) / Double(known.count)
        return workers.map { rates[$0.workerID] ?? mean }
    }
}
