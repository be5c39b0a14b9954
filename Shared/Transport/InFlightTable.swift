import Wire

/// Every submitted item until its result arrives: queued, or assigned to a peer with a
/// deadline. Completed ids are remembered so a second answer is recognised (idempotent
/// results, docs/architecture.md section 4): those of the latest `rememberedSteps` steps of their run, and
/// never more than `rememberedCompletions`, so a long run's memory stays flat. A duplicate older
/// than that counts as unknown, which is dropped too.
struct InFlightTable {
    struct Item {
        let request: [UInt8]  // the encoded Envelope, re-sent as is on re-issue
        var attempts = 0
        var peer: PeerID?
        var previousPeer: PeerID?  // who held it last: a re-issue prefers someone else
        var deadline = Double.infinity
        /// The only peer that may take it (state it holds, e.g. a replica's activations).
        var pinned: PeerID?
    }

    private(set) var items: [WorkID: Item] = [:]
    private var queue: [WorkID] = []  // FIFO of unassigned ids (may hold stale ids, skipped on pop)
    private var queueHead = 0
    private(set) var completed: Set<WorkID> = []
    private var completionOrder: [WorkID] = []  // oldest first, from completionHead
    private var completionHead = 0
    /// The newest step completed per run (ids number the training step; see `rememberedSteps`).
    private var newestStep: [String: UInt64] = [:]
    /// A late answer comes from a worker given up on: silent for 3 s, or past its 30 s deadline
    /// (DistributorConfig). 64 steps is over a minute at the paper's batch and several seconds
    /// at the smallest batch we run (16, ~0.1 s a step). The bound follows the run's progress,
    /// not its length: `comcl soak` found a count bound alone (100,000 ids, ~18 MB) still
    /// filling after 1000 small steps, so the coordinator's memory grew all through a soak.
    static let rememberedSteps: UInt64 = 64
    /// About 125 training steps of batch 400 (800 pipeline items each), and the only bound for
    /// ids that do not number steps (step 0: detection and embedding requests).
    static let rememberedCompletions = 100_000

    /// No assigned item's deadline is earlier (it may be later: recomputed when passed), so
    /// `expired`, asked on every turn of the loop, scans the items only when one may be due.
    private var earliestDeadline = Double.infinity

    var pendingCount: Int { items.values.count { $0.peer == nil } }
    var assignedCount: Int { items.count - pendingCount }

    /// False if the id is already known (queued, in flight or done).
    mutating func submit(_ id: WorkID, request: [UInt8], pinned: PeerID? = nil) -> Bool {
        guard items[id] == nil, !completed.contains(id) else { return false }
        items[id] = Item(request: request, pinned: pinned)
        queue.append(id)
        return true
    }

    /// Forgets that `id` was answered, so it can be submitted again (a result lost after it
    /// arrived, e.g. views kept by an augmenter that left).
    mutating func forgetCompletion(_ id: WorkID) { completed.remove(id) }

    func isKnown(_ id: WorkID) -> Bool { items[id] != nil || completed.contains(id) }

    /// The next queued id, if any.
    mutating func nextPending() -> WorkID? {
        while queueHead < queue.count {
            let id = queue[queueHead]
            queueHead += 1
            if let item = items[id], item.peer == nil { compact(); return id }
        }
        compact()
        return nil
    }

    /// Puts an id back at the front (a send that failed).
    mutating func unpop(_ id: WorkID) {
        if queueHead > 0 { queueHead -= 1; queue[queueHead] = id } else { queue.insert(id, at: 0) }
    }

    private mutating func compact() {
        if queueHead > 1024, queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    mutating func assign(_ id: WorkID, to peer: PeerID, deadline: Double) -> [UInt8] {
        earliestDeadline = min(earliestDeadline, deadline)
        items[id]!.peer = peer
        items[id]!.attempts += 1
        items[id]!.deadline = deadline
        return items[id]!.request
    }

    /// Back to the queue; returns the attempts so far.
    @discardableResult
    mutating func requeue(_ id: WorkID) -> Int {
        guard var item = items[id] else { return 0 }
        item.previousPeer = item.peer
        item.peer = nil
        item.deadline = .infinity
        items[id] = item
        queue.append(id)
        return item.attempts
    }

    enum Completion { case first, duplicate, unknown }

    mutating func complete(_ id: WorkID) -> Completion {
        if completed.contains(id) { return .duplicate }
        guard items.removeValue(forKey: id) != nil else { return .unknown }
        completed.insert(id)
        completionOrder.append(id)
        newestStep[id.run] = max(newestStep[id.run] ?? 0, id.step)
        forgetOldCompletions()
        return .first
    }

    /// Drops the oldest remembered completions while there are too many or they belong to a step
    /// `rememberedSteps` behind their run's newest (completions come about in step order, so the
    /// oldest are at the head; an id of another run at the head holds the rest back to the count
    /// bound, which is fine since the runs on one link follow each other).
    private mutating func forgetOldCompletions() {
        while completionHead < completionOrder.count {
            let oldest = completionOrder[completionHead]
            guard completed.count > Self.rememberedCompletions || oldest.step + Self.rememberedSteps < newestStep[oldest.run]! else {
                break
            }
            completed.remove(oldest)
            completionHead += 1
        }
        if completionHead > 1024, completionHead * 2 > completionOrder.count {
            completionOrder.removeFirst(completionHead)
            completionHead = 0
        }
    }

    /// Gives up on an item (it will not be re-issued; a late result counts as unknown).
    mutating func fail(_ id: WorkID) {
        items[id] = nil
    }

    /// Assigned items whose deadline has passed, in item order.
    mutating func expired(at now: Double) -> [WorkID] {
        guard now >= earliestDeadline else { return [] }
        var due: [WorkID] = []
        earliestDeadline = .infinity
        for (id, item) in items where item.peer != nil {
            if item.deadline <= now { due.append(id) } else { earliestDeadline = min(earliestDeadline, item.deadline) }
        }
        return due.sorted { $0.item < $1.item }
    }

    /// Items only `peer` may take, queued or in flight.
    func pinned(to peer: PeerID) -> [WorkID] {
        items.compactMap { id, item in item.pinned == peer ? id : nil }.sorted { $0.item < $1.item }
    }

    func assigned(to peer: PeerID) -> [WorkID] {
        items.compactMap { id, item in item.peer == peer ? id : nil }.sorted { $0.item < $1.item }
    }
}
