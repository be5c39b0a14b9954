/// A worker's finished results not yet sent (docs/protocol.md, "Batches"). A result waits only
/// while the next item computes with more queued behind it, so the coordinator's credit comes
/// back in a batch and it answers with a batch; it goes once `limit` are held or the first has
/// waited `holdSeconds`.
struct HeldReplies {
    let limit: Int
    let holdSeconds: Double
    private(set) var replies: [[UInt8]] = []
    private var since = 0.0

    init(limit: Int, holdSeconds: Double) { (self.limit, self.holdSeconds) = (max(1, limit), holdSeconds) }

    /// When the oldest held result must go at the latest.
    var deadline: Double { replies.isEmpty ? .infinity : since + holdSeconds }

    mutating func add(_ reply: [UInt8], at now: Double) {
        if replies.isEmpty { since = now }
        replies.append(reply)
    }

    /// Whether to send now: nothing computes, the item computing is the last, enough are held,
    /// or the oldest has waited long enough.
    func due(at now: Double, computing: Bool, queued: Int) -> Bool {
        !replies.isEmpty && (!computing || queued == 0 || replies.count >= limit || now >= deadline)
    }

    mutating func take() -> [[UInt8]] {
        defer { replies = [] }
        return replies
    }
}
