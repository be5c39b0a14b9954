import Transport
import Wire

/// What a replica sums the step's gradient with (docs/training.md): the parts its peers push to
/// its data endpoint, and the client it pushes its own with.
public struct GradientPeers: Sendable {
    public let inbox: GradientInbox
    public let client: DataClient

    public init(inbox: GradientInbox, client: DataClient) { (self.inbox, self.client) = (inbox, client) }

    /// The step's whole gradient, summed with the peers at `endpoints` (every shard's worker's, in
    /// shard order; `id.shard` is ours): this worker sends every other its gradient over that one's
    /// slice, adds the peers' parts of its own slice in shard order from zeros, sends that sum to
    /// every other and takes theirs. Returns the sum, every shard's statistics in shard order and
    /// the seconds spent waiting. A part that does not come within `timeout` seconds is
    /// `unavailable` (its worker is gone; the coordinator decides what the step becomes).
    func sum(
        _ gradient: [Float], statistics: [BatchNormStatistics], id: ShardID, endpoints: [String], timeout: Double
    ) throws(TrainingError) -> (sum: [Float], statistics: [[BatchNormStatistics]], waited: Double) {
        let n = endpoints.count, me = id.shard
        guard me < n else { throw .badInput("\(id): shard \(me) of \(n) peers") }
        let slices = (0..<n).map { ReplicaUpdate.slice($0, of: n, length: gradient.count) }
        let senders = (0..<n).map { ShardID(run: id.run, step: id.step, attempt: id.attempt, shard: $0, phase: .backward).workID }
        let others = (0..<n).filter { $0 != me }
        inbox.discard { sender in
            guard let s = ShardID(sender) else { return true }
            return s.run != id.run || (s.step, s.attempt) < (id.step, id.attempt)
        }
        func send(_ part: GradientPart, to shard: Int) throws(TrainingError) {
            do { try client.push(part, to: endpoints[shard]) } catch {
                throw .unavailable("\(id): cannot send to shard \(shard)'s worker at \(endpoints[shard]): \(error)")
            }
        }
        func receive(_ shards: [Int], sum: Bool) throws(TrainingError) -> [GradientPart] {
            let from = shards.map { senders[$0] }
            guard let parts = inbox.take(from: from, sum: sum, timeout: timeout) else {
                let missing = Set(inbox.missing(from: from, sum: sum))
                let late = shards.filter { missing.contains(senders[$0]) }.map { "shard \($0) at \(endpoints[$0])" }
                throw .unavailable("\(id): no \(sum ? "sum" : "gradient") from \(late.joined(separator: ", ")) within \(Int(timeout)) s")
            }
            for (shard, part) in zip(shards, parts)
            where part.offset != slices[sum ? shard : me].lowerBound
                || part.values.shape != [slices[sum ? shard : me].count]
            {
                throw .badInput(
                    "\(id): shard \(shard)'s part starts at \(part.offset) with \(part.values.shape) values; expected its slice \(slices[sum ? shard : me])"
                )
            }
            return parts
        }
        var waited = 0.0
        for j in others {
            let values = Array(gradient[slices[j]])
            try send(
                GradientPart(
                    id: senders[me], sum: false, offset: slices[j].lowerBound, values: try! Tensor(float32: values, shape: [values.count])),
                to: j)
        }
        var waitMark = clock.now()
        let contributions = try receive(others, sum: false)
        waited += seconds(since: waitMark)
        var mine = [Float](repeating: 0, count: slices[me].count)
        var next = contributions.makeIterator()
        for j in 0..<n {
            if j == me {
                gradient[slices[me]].withUnsafeBufferPointer { ReplicaUpdate.add($0, into: &mine) }
            } else {
                ReplicaUpdate.add(next.next()!.values, into: &mine)
            }
        }
        let sumPart = GradientPart(
            id: senders[me], sum: true, offset: slices[me].lowerBound, values: try! Tensor(float32: mine, shape: [mine.count]),
            batchNorm: statistics)
        for j in others { try send(sumPart, to: j) }
        waitMark = clock.now()
        let sums = try receive(others, sum: true)
        waited += seconds(since: waitMark)
        var whole = [Float]()
        whole.reserveCapacity(gradient.count)
        var shards: [[BatchNormStatistics]] = []
        var received = sums.makeIterator()
        for j in 0..<n {
            if j == me {
                whole += mine
                shards.append(statistics)
            } else {
                let part = received.next()!
                part.values.data.withUnsafeBytes { whole += $0.bindMemory(to: Float.self) }
                shards.append(part.batchNorm)
            }
        }
        return (whole, shards, waited)
    }
}
