import Testing
@testable import Transport

/// When a worker sends the results it holds (docs/protocol.md, "Batches").
@Suite struct HeldRepliesTests {
    @Test func aResultWaitsOnlyWhileMoreWorkIsQueuedBehindTheNext() {
        var held = HeldReplies(limit: 4, holdSeconds: 0.02)
        #expect(!held.due(at: 0, computing: false, queued: 0), "nothing held")
        held.add([1], at: 10)
        #expect(held.due(at: 10, computing: false, queued: 0), "nothing computes: send")
        #expect(held.due(at: 10, computing: true, queued: 0), "the item computing is the last: send")
        #expect(!held.due(at: 10, computing: true, queued: 3), "more to come: wait")
        #expect(held.due(at: 10.02, computing: true, queued: 3), "waited long enough")
        #expect(held.deadline == 10.02)
        for reply in 2...4 { held.add([UInt8(reply)], at: 10.01) }
        #expect(held.due(at: 10.01, computing: true, queued: 3), "a full batch")
        #expect(held.take() == [[1], [2], [3], [4]])
        #expect(held.deadline == .infinity)
        #expect(!held.due(at: 11, computing: false, queued: 0))
    }

    /// Capacity 1 (the embedding workers, the evaluator) or 2: every result goes at once.
    @Test func smallCapacitiesSendEachResultAtOnce() {
        for capacity in [1, 2] {
            var held = HeldReplies(limit: capacity / 2, holdSeconds: 0.02)
            held.add([1], at: 0)
            #expect(held.due(at: 0, computing: true, queued: 5))
        }
    }
}
