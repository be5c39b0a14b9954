import Wire

/// Every submitted item until its result arrives: queued, or assigned to a peer with a
/// deadline. Completed ids are remembered so a second answer is recognised (idempotent
/// results, DESIGN.md section 4): the latest `rememberedCompletions` of them, so a long run's
/// memory stays flat. A duplicate older than that counts as unknown, which is dropped too.
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
    /// About 125 training steps of batch 400 (800 pipeline items each), a few MB: far longer
    /// than a late duplicate can take (a worker is declared lost after seconds of silence).
    static let rememberedCompletions = 100_000

    var pendingCount: Int { items.values.count { $0.peer == nil } }
    var assignedCount: Int { items.count - pendingCount }

    /// False if the id is already known (queued, in flight or done).
    mutating func submit(_ id: WorkID, request: [UInt8], pinned: PeerID? = nil) -> Bool {
        guard items[id] == nil, !completed.contains(id) else { return false }
        items[id] = Item(request: request, pinned: pinned)
        queue.append(id)
        return true
    }

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
        if completed.count > Self.rememberedCompletions {
            completed.remove(completionOrder[completionHead])
            completionHead += 1
            if completionHead * 2 > completionOrder.count {
                completionOrder.removeFirst(completionHead)
                completionHead = 0
            }
        }
        return .first
    }

    /// Gives up on an item (it will not be re-issued; a late result counts as unknown).
    mutating func fail(_ id: WorkID) {
        items[id] = nil
    }

    func expired(at now: Double) -> [WorkID] {
        items.compactMap { id, item in item.peer != nil && item.deadline <= now ? id : nil }.sorted { $0.item < $1.item }
    }

    /// Items only `peer` may take, queued or in flight.
    func pinned(to peer: PeerID) -> [WorkID] {
        items.compactMap { id, item in item.pinned == peer ? id : nil }.sorted { $0.item < $1.item }
    }

    func assigned(to peer: PeerID) -> [WorkID] {
        items.compactMap { id, item in item.peer == peer ? id : nil }.sorted { $0.item < $1.item }
    }
}
