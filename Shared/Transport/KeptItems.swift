import Synchronization
import Wire

/// What a worker keeps for others to fetch (the data plane): a cropper's patches, an augmenter's
/// views, by work id, until the coordinator says their step is done (`keepFromStep`). Also
/// bounded by count, so a worker whose coordinator stopped saying so cannot grow without limit:
/// the oldest steps go first, and a fetch of a dropped item answers "missing" (the coordinator
/// makes it again). Thread-safe: the compute thread puts, the data server's thread fetches.
public final class KeptItems<Value: Sendable>: Sendable {
    /// Four steps of the paper's batch (400 patches): the step on the workers, the next and two
    /// prefetched (`--prefetch` 2); about 1.3 GB of 224-px float views at the most.
    public static var defaultLimit: Int { 1600 }
    private let state: Mutex<State>
    private let limit: Int

    private struct State: Sendable {
        var items: [WorkID: Value] = [:]
        var keepFromStep: UInt64 = 0
        var evicted = 0
    }

    public init(limit: Int = KeptItems.defaultLimit) {
        self.limit = max(1, limit)
        state = Mutex(State())
    }

    /// Keeps `value` under `id`, first dropping what the coordinator no longer needs.
    public func put(_ value: Value, id: WorkID, keepFromStep: UInt64) {
        state.withLock { s in
            if keepFromStep > s.keepFromStep {
                s.keepFromStep = keepFromStep
                s.items = s.items.filter { $0.key.step >= keepFromStep }
            }
            s.items[id] = value
            if s.items.count > limit {
                let oldest = s.items.keys.sorted { ($0.step, $0.item) < ($1.step, $1.item) }.prefix(s.items.count - limit)
                for id in oldest { s.items[id] = nil }
                s.evicted += oldest.count
            }
        }
    }

    /// The values held for `ids`, and the ids not held.
    public func fetch(_ ids: [WorkID]) -> (found: [Value], missing: [WorkID]) {
        state.withLock { s in
            var answer: (found: [Value], missing: [WorkID]) = ([], [])
            for id in ids {
                if let value = s.items[id] { answer.found.append(value) } else { answer.missing.append(id) }
            }
            return answer
        }
    }

    public var count: Int { state.withLock { $0.items.count } }
    /// Items dropped by the count bound (not by the coordinator's watermark).
    public var evicted: Int { state.withLock { $0.evicted } }
}

/// An augmenter's views, kept for the embedding workers.
public typealias KeptViews = KeptItems<ViewPair>
/// A cropper's patches, kept for the augmenters.
public typealias KeptPatches = KeptItems<Patch>
