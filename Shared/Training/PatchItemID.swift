import Wire

/// Work ids on the patch links (detector/cropper, augmenter): one slot of a step's batch, under
/// the attempt that filled it. A failed item is re-planned from another image under the next
/// attempt, so every id stays unique and a late answer for an old attempt is recognised. The item
/// packs `attempt << 20 | slot`; the seeded choices (crop, views) derive from the whole id.
public struct PatchItemID: Hashable, Sendable, CustomStringConvertible {
    public var run: String
    public var step: Int
    public var slot: Int
    public var attempt: Int

    public init(run: String, step: Int, slot: Int, attempt: Int) {
        (self.run, self.step, self.slot, self.attempt) = (run, step, slot, attempt)
    }

    static let fieldLimit = 1 << 20

    public var workID: WorkID {
        precondition(attempt < Self.fieldLimit && slot < Self.fieldLimit, "attempt \(attempt) or slot \(slot) out of range")
        return WorkID(run: run, step: UInt64(step), item: UInt64(attempt) << 20 | UInt64(slot))
    }

    public init?(_ id: WorkID) {
        guard id.step <= UInt64(Int.max), id.item >> 40 == 0 else { return nil }
        let mask = UInt64(Self.fieldLimit - 1)
        self.init(run: id.run, step: Int(id.step), slot: Int(id.item & mask), attempt: Int(id.item >> 20))
    }

    public var description: String { "\(run) step \(step) item \(slot) attempt \(attempt)" }
}
