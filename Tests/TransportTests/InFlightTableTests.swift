import Testing
@testable import Transport
import Wire

/// The in-flight table's memory of finished items is bounded (a long run must not grow), and
/// within that bound a second answer is still recognised as a duplicate.
@Suite struct InFlightTableTests {
    @Test func completedIdsAreRememberedUpToABound() {
        var table = InFlightTable()
        let limit = InFlightTable.rememberedCompletions
        let id = { (i: Int) in WorkID(run: "r", step: 0, item: UInt64(i)) }
        for i in 0..<(limit + 10) {
            let submitted = table.submit(id(i), request: [])
            let completion = table.complete(id(i))
            #expect(submitted && completion == .first)
        }
        #expect(table.completed.count == limit)
        let newest = table.complete(id(limit + 9)), oldest = table.complete(id(10)), forgotten = table.complete(id(9))
        #expect(newest == .duplicate)
        #expect(oldest == .duplicate)  // the oldest still remembered
        #expect(forgotten == .unknown)  // forgotten: dropped all the same
        #expect(table.items.isEmpty)
    }

    /// Training ids number their step: a step's completions are forgotten once their run is
    /// `rememberedSteps` further on, so memory follows the batch size, not the run's length.
    @Test func completionsOfOldStepsAreForgotten() {
        var table = InFlightTable()
        let window = InFlightTable.rememberedSteps
        let id = { (run: String, step: UInt64, item: UInt64) in WorkID(run: run, step: step, item: item) }
        for step in 0...(3 * window) {
            for item in 0..<5 as Range<UInt64> {
                let submitted = table.submit(id("r", step, item), request: [])
                let completion = table.complete(id("r", step, item))
                #expect(submitted && completion == .first)
            }
        }
        // Steps 2w...3w remembered (w + 1 steps of 5 items); the older ones forgotten.
        #expect(table.completed.count == Int(window + 1) * 5)
        let (kept, forgotten) = (table.complete(id("r", 2 * window, 4)), table.complete(id("r", 2 * window - 1, 4)))
        #expect(kept == .duplicate && forgotten == .unknown)
        // Another run's ids keep their own window: an evaluation's step-0 ids are not forgotten
        // because training reached step 3w.
        let submitted = table.submit(id("embeddings", 0, 1), request: [])
        let first = table.complete(id("embeddings", 0, 1))
        let (training, evaluation) = (table.complete(id("r", 3 * window, 0)), table.complete(id("embeddings", 0, 1)))
        #expect(submitted && first == .first && training == .duplicate && evaluation == .duplicate)
    }

    /// Items whose deadlines pass at different times each expire when theirs does, though the
    /// table looks at its items only when the earliest deadline it knows of has passed.
    @Test func itemsExpireEachAtItsDeadline() {
        var table = InFlightTable()
        let id = { (i: UInt64) in WorkID(run: "r", step: 0, item: i) }
        for i in 0..<3 { _ = table.submit(id(UInt64(i)), request: []) }
        _ = table.nextPending()
        _ = table.assign(id(0), to: [1], deadline: 10)
        _ = table.nextPending()
        _ = table.assign(id(1), to: [1], deadline: 20)
        #expect(table.expired(at: 5).isEmpty)
        #expect(table.expired(at: 10) == [id(0)])
        table.requeue(id(0))
        _ = table.nextPending()
        _ = table.assign(id(2), to: [2], deadline: 15)
        #expect(table.expired(at: 12).isEmpty)
        #expect(table.expired(at: 15) == [id(2)])
        #expect(table.expired(at: 25) == [id(1), id(2)])
    }
}
