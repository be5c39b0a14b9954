import Testing
@testable import Transport

/// A line repeated by a reconnect loop is rationed per key, and the count of what was held back
/// comes with the next line let through.
@Suite struct LogBudgetTests {
    @Test func rationsEachKeyAndTellsWhatItHeldBack() {
        var budget = LogBudget(lines: 3, seconds: 60)
        let first = (0..<5).map { budget.admit("10.0.0.2", now: Double($0)) }
        #expect(first == [0, 0, 0, nil, nil])
        let otherHost = budget.admit("10.0.0.3", now: 5)
        #expect(otherHost == 0)  // another host has its own ration
        let stillHeld = budget.admit("10.0.0.2", now: 59)
        #expect(stillHeld == nil)
        // A new window: the first line says 3 were held back, the next none.
        let (next, afterIt) = (budget.admit("10.0.0.2", now: 61), budget.admit("10.0.0.2", now: 62))
        #expect(next == 3 && afterIt == 0)
        #expect(LogBudget.suffix(3) == " (3 more like it not logged)" && LogBudget.suffix(0).isEmpty)
    }
}
