import Synchronization
import Wire

/// The views an augmenter keeps for the embedding workers to fetch (the data plane): by work id,
/// until the coordinator says their step is done (`keepFromStep`). Also bounded by count, so an
/// augmenter whose coordinator stopped saying so cannot grow without limit: the oldest steps go
/// first, and a fetch of a dropped item answers "missing" (the coordinator re-makes it).
/// Thread-safe: the compute thread puts, the data server's thread fetches.
public final class KeptViews: Sendable {
    /// Four steps of the paper's batch (400 patches): the step on the workers, the next and two
    /// prefetched (`--prefetch` 2), about 1.3 GB of 224-px float views at the most.
    public static let defaultLimit = 1600
    private let state: Mutex<State>
    private let limit: Int

    private struct State {
        var pairs: [WorkID: ViewPair] = [:]
        var keepFromStep: UInt64 = 0
        var evicted = 0
    }

    public init(limit: Int = KeptViews.defaultLimit) {
        self.limit = max(1, limit)
        state = Mutex(State())
    }

    /// Keeps `pair`, first dropping what the coordinator no longer needs.
    public func put(_ pair: ViewPair, keepFromStep: UInt64) {
        state.withLock { s in
            if keepFromStep > s.keepFromStep {
                s.keepFromStep = keepFromStep
                s.pairs = s.pairs.filter { $0.key.step >= keepFromStep }
            }
            s.pairs[pair.id] = pair
            if s.pairs.count > limit {
                let oldest = s.pairs.keys.sorted { ($0.step, $0.item) < ($1.step, $1.item) }.prefix(s.pairs.count - limit)
                for id in oldest { s.pairs[id] = nil }
                s.evicted += oldest.count
            }
        }
    }

    /// The views held for `ids`, and the ids not held.
    public func fetch(_ ids: [WorkID]) -> FetchedViews {
        state.withLock { s in
            var answer = FetchedViews(pairs: [])
            for id in ids {
                if let pair = s.pairs[id] { answer.pairs.append(pair) } else { answer.missing.append(id) }
            }
            return answer
        }
    }

    public var count: Int { state.withLock { $0.pairs.count } }
    /// Items dropped by the count bound (not by the coordinator's watermark).
    public var evicted: Int { state.withLock { $0.evicted } }
}
