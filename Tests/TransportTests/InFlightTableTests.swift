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
}
