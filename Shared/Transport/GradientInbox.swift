import Foundation
import Wire

/// The gradient parts other embedding workers pushed to this worker's data endpoint (the
/// step's sum among the workers, docs/training.md): the data endpoint's thread puts them in,
/// the compute thread waits for the ones a step needs. Parts are keyed by the sender's work id
/// and kind (a shard's gradient, or a sum), so a late part of an earlier attempt is never taken
/// for a later one's.
public final class GradientInbox: @unchecked Sendable {
    private struct Key: Hashable {
        let sender: WorkID
        let sum: Bool
    }

    private let condition = NSCondition()
    private var parts: [Key: GradientPart] = [:]
    /// More parts than this means peers push for steps this worker never takes (a bug or a
    /// stranger): the oldest go. Two steps of 64 peers' two kinds fit.
    static let limit = 256

    public init() {}

    /// A part pushed by a peer.
    public func put(_ part: GradientPart) {
        condition.lock()
        defer { condition.unlock() }
        parts[Key(sender: part.id, sum: part.sum)] = part
        if parts.count > Self.limit {
            for key in parts.keys.sorted(by: { ($0.sender.step, $0.sender.item) < ($1.sender.step, $1.sender.item) })
                .prefix(parts.count - Self.limit)
            {
                parts[key] = nil
            }
        }
        condition.broadcast()
    }

    /// The parts of kind `sum` from each sender, in the order asked, once all are in; nil when
    /// `timeout` seconds pass first (what was taken stays taken: a step waits once).
    public func take(from senders: [WorkID], sum: Bool, timeout: Double) -> [GradientPart]? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !senders.allSatisfy({ parts[Key(sender: $0, sum: sum)] != nil }) {
            if !condition.wait(until: deadline) { return nil }
        }
        return senders.map { parts.removeValue(forKey: Key(sender: $0, sum: sum))! }
    }

    /// The senders whose part of kind `sum` has not come (for the error when a wait times out).
    public func missing(from senders: [WorkID], sum: Bool) -> [WorkID] {
        condition.lock()
        defer { condition.unlock() }
        return senders.filter { parts[Key(sender: $0, sum: sum)] == nil }
    }

    /// Drops every part `stale` says belongs to a step or attempt that is over.
    public func discard(where stale: (WorkID) -> Bool) {
        condition.lock()
        defer { condition.unlock() }
        parts = parts.filter { !stale($0.key.sender) }
    }
}
