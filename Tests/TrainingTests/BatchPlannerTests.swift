import Domain
import Testing
import Training
import Wire

@Suite struct BatchPlannerTests {
    /// 10 L, 6 L~, 9 H, 2 H~ images.
    static let entries: [(image: String, level: Level)] = zip([10, 6, 9, 2], Level.allCases).flatMap { count, level in
        (0..<count).map { ("\(level)-\($0).png", level) }
    }

    @Test func levelBalancedInterleavedAndSeeded() throws {
        let planner = try BatchPlanner(entries: Self.entries, needed: Level.allCases, batch: 8, seed: 3)
        let plan = planner.plan(step: 0)
        #expect(
            plan.map(\.level) == [.lesionHigh, .lesionLow, .healthyHigh, .healthyLow, .lesionHigh, .lesionLow, .healthyHigh, .healthyLow])
        #expect(plan.allSatisfy { $0.image.hasPrefix("\($0.level)-") })
        let again = try BatchPlanner(entries: Self.entries, needed: Level.allCases, batch: 8, seed: 3)
        #expect(again.plan(step: 4) == planner.plan(step: 4))  // a function of (seed, step), not of history
        let other = try BatchPlanner(entries: Self.entries, needed: Level.allCases, batch: 8, seed: 4)
        #expect((0..<5).map { other.plan(step: $0) } != (0..<5).map { planner.plan(step: $0) })
    }

    @Test func eachPassUsesEveryImageOnce() throws {
        let planner = try BatchPlanner(entries: Self.entries, needed: Level.allCases, batch: 8, seed: 1)
        // L has 10 images and 2 per step: steps 0-4 are one pass over them.
        let drawn = (0..<5).flatMap { planner.plan(step: $0) }.filter { $0.level == .lesionHigh }.map(\.image)
        #expect(Set(drawn).count == 10)
    }

    @Test func shortLevelsRepeatAndAreReported() throws {
        let planner = try BatchPlanner(entries: Self.entries, needed: Level.allCases, batch: 16, seed: 1)
        #expect(planner.shortLevels.map(\.level) == [.healthyLow])
        let h = planner.plan(step: 0).filter { $0.level == .healthyLow }
        #expect(h.count == 4 && Set(h.map(\.image)).count == 2)
    }

    @Test func missingLevelsTheLossNeedsAreErrors() throws {
        let noLow = Self.entries.filter { $0.level != .healthyLow }
        #expect(throws: TrainingError.self) { try BatchPlanner(entries: noLow, needed: Level.allCases, batch: 8, seed: 1) }
        // Basic CL names no levels: three levels present, a batch a multiple of three.
        let planner = try BatchPlanner(entries: noLow, needed: [], batch: 6, seed: 1)
        #expect(planner.levels == [.lesionHigh, .lesionLow, .healthyHigh])
        let replacement = planner.replacement(step: 0, item: 4, attempt: 1)
        #expect(replacement.level == .lesionLow)
    }
}
