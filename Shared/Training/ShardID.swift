import Wire

/// Work ids on the embedding link. One step's shard is computed in two phases by one worker
/// (forward keeps the activations the backward needs); if a worker leaves mid-step the step is
/// redone on the workers left under a new attempt number, so every id stays unique (the router
/// remembers answered ids). The item packs `phase << 40 | attempt << 20 | shard`. A relayed
/// worker's sum is a third phase (`apply`); a state request a fourth (`state`: the step is the
/// weights version asked for, the shard a counter).
public struct ShardID: Hashable, Sendable, CustomStringConvertible {
    public enum Phase: UInt64, Sendable { case forward = 0, backward = 1, apply = 2, state = 3 }

    public var run: String
    public var step: Int
    public var attempt: Int
    public var shard: Int
    public var phase: Phase

    public init(run: String, step: Int, attempt: Int, shard: Int, phase: Phase) {
        (self.run, self.step, self.attempt, self.shard, self.phase) = (run, step, attempt, shard, phase)
    }

    static let fieldLimit = 1 << 20

    public var workID: WorkID {
        precondition(attempt < Self.fieldLimit && shard < Self.fieldLimit, "attempt \(attempt) or shard \(shard) out of range")
        return WorkID(run: run, step: UInt64(step), item: phase.rawValue << 40 | UInt64(attempt) << 20 | UInt64(shard))
    }

    public init?(_ id: WorkID) {
        guard let phase = Phase(rawValue: id.item >> 40), id.step <= UInt64(Int.max) else { return nil }
        let mask = UInt64(Self.fieldLimit - 1)
        self.init(run: id.run, step: Int(id.step), attempt: Int((id.item >> 20) & mask), shard: Int(id.item & mask), phase: phase)
    }

    /// The same shard and attempt in the other phase.
    public func with(_ phase: Phase) -> ShardID {
        var id = self
        id.phase = phase
        return id
    }

    public var description: String { "\(run) step \(step) shard \(shard) attempt \(attempt) \(phase)" }
}
