import Testing
import Training
import Wire

/// The patch links' work ids keep their packing (the seeded crops and views derive from them, so a
/// change would change every run's batches) and round-trip; an embedding-link id is not one.
@Suite struct PatchItemIDTests {
    @Test func packsAttemptAndSlotAndRoundTrips() throws {
        let id = PatchItemID(run: "r", step: 7, slot: 93, attempt: 2)
        #expect(id.workID == WorkID(run: "r", step: 7, item: 2 << 20 | 93))
        #expect(PatchItemID(id.workID) == id)
        let shard = ShardID(run: "r", step: 7, attempt: 0, shard: 1, phase: .backward).workID
        #expect(PatchItemID(shard) == nil)
    }
}
