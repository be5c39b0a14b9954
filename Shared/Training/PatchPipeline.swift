import Domain
import Logging
import Wire

/// One step's views, in batch order: rows 0..B-1 of the loss are `first`, B..2B-1 `second`.
public struct StepViews: Sendable {
    public var step: Int
    public var levels: [Level]
    public var first: [Tensor]
    public var second: [Tensor]
    /// Items re-planned because their patch or views failed.
    public var replaced: Int
    /// Where the step's patches came from, and what was skipped.
    public var sources = PatchSources()
    /// FNV-1a 64 over each slot's (item, image, attempt, views) in batch order: a function of
    /// (seed, config, step) alone, so equal across runs however workers came and went.
    public var digest: UInt64

    public init(step: Int, levels: [Level], first: [Tensor], second: [Tensor], replaced: Int, digest: UInt64 = 0) {
        (self.step, self.levels, self.first, self.second, self.replaced, self.digest) = (step, levels, first, second, replaced, digest)
    }
}

/// Carries each planned patch through detector/cropper -> augmenter, keeping up to `prefetch`
/// future steps in flight, and tracking every item until its views arrive. An item that fails
/// (a corrupt image...) is re-planned from another image of its level, up to `maxAttempts`.
/// Work ids: PatchItemID (step, slot, attempt).
public final class PatchPipeline {
    public static let maxAttempts = 5
    let config: TrainingConfig
    let planner: BatchPlanner
    let logger: Logger
    let requestPatch: (PatchRequest) -> Void
    let requestViews: (AugmentRequest) -> Void
    public private(set) var planned = 0  // steps submitted so far, from `firstStep`
    private var slots: [Int: Slots] = [:]
    public private(set) var failure: String?
    /// Results dropped since the last `takeDropped()`: for an attempt since re-planned, a step
    /// already taken, or a slot already filled (so no item fills a slot twice).
    private var dropped = 0

    private struct Slots {
        var levels: [Level]
        var images: [String]
        var first: [Tensor?]
        var second: [Tensor?]
        var attempts: [Int]
        var missing: Int
        var replaced = 0
        /// Per item: whether its (latest) patch was cut around a detected box.
        var fromDetection: [Bool?]
        var skipped: [String: Int] = [:]
    }

    public init(
        config: TrainingConfig, planner: BatchPlanner, firstStep: Int, logger: Logger,
        requestPatch: @escaping (PatchRequest) -> Void, requestViews: @escaping (AugmentRequest) -> Void
    ) {
        (self.config, self.planner, self.logger, self.planned) = (config, planner, logger, firstStep)
        (self.requestPatch, self.requestViews) = (requestPatch, requestViews)
    }

    /// Items of steps planned and not yet taken.
    public var inFlight: Int { slots.values.reduce(0) { $0 + $1.missing } }

    /// Submits the steps up to `current + prefetch` (never past the run's last step).
    public func fill(current: Int) {
        while planned <= min(current + config.prefetch, config.steps - 1) {
            let step = planned
            let plan = planner.plan(step: step)
            slots[step] = Slots(
                levels: plan.map(\.level), images: plan.map(\.image), first: Array(repeating: nil, count: plan.count),
                second: Array(repeating: nil, count: plan.count),
                attempts: Array(repeating: 0, count: plan.count), missing: plan.count,
                fromDetection: Array(repeating: nil, count: plan.count))
            for (item, patch) in plan.enumerated() { request(step: step, item: item, attempt: 0, patch) }
            planned += 1
        }
    }

    private func request(step: Int, item: Int, attempt: Int, _ patch: PlannedPatch) {
        let id = PatchItemID(run: config.run, step: step, slot: item, attempt: attempt).workID
        slots[step]!.images[item] = patch.image
        requestPatch(PatchRequest(id: id, imageID: patch.image, path: patch.image, level: patch.level, seed: config.seed))
    }

    private func locate(_ id: WorkID) -> (step: Int, item: Int, attempt: Int)? {
        guard let patch = PatchItemID(id), patch.run == config.run, let s = slots[patch.step], patch.slot < s.attempts.count,
            s.attempts[patch.slot] == patch.attempt
        else {
            dropped += 1
            return nil
        }
        return (patch.step, patch.slot, patch.attempt)
    }

    /// Results dropped (see `dropped`) since the last call.
    public func takeDropped() -> Int {
        defer { dropped = 0 }
        return dropped
    }

    /// A patch from the cropper: on to the augmenter.
    public func received(_ patch: Patch) {
        guard let (step, item, _) = locate(patch.id) else { return }
        slots[step]!.fromDetection[item] = patch.provenance.fromDetection
        requestViews(AugmentRequest(patch: patch, seed: config.seed, recipe: config.recipe))
    }

    /// Views from the augmenter: into their slot. Views must be normalised float32 [3, H, W].
    public func received(_ pair: ViewPair) {
        guard let (step, item, _) = locate(pair.id) else { return }
        guard slots[step]!.first[item] == nil else {
            dropped += 1
            return
        }
        guard pair.first.dtype == .float32, pair.first.shape.count == 3, pair.first.shape[0] == 3 else {
            failure =
                "the augmenter returned \(pair.first.dtype) views of shape \(pair.first.shape); training needs normalised float32 [3, H, W] (the recipe must end with normalize)"
            return
        }
        slots[step]!.first[item] = pair.first
        slots[step]!.second[item] = pair.second
        slots[step]!.missing -= 1
    }

    /// An item failed on either link: re-plan it from another image of its level.
    public func failed(_ id: WorkID, _ report: ErrorReport) {
        guard let (step, item, attempt) = locate(id) else { return }
        guard attempt + 1 < Self.maxAttempts else {
            failure = "step \(step) item \(item) failed \(Self.maxAttempts) times; last: \(report.message)"
            return
        }
        let patch = planner.replacement(step: step, item: item, attempt: attempt + 1)
        logger.warning("step \(step) item \(item): \(report.message); re-planned from \(patch.image)")
        slots[step]!.attempts[item] = attempt + 1
        slots[step]!.replaced += 1
        slots[step]!.skipped[PatchSources.reason(report.code), default: 0] += 1
        request(step: step, item: item, attempt: attempt + 1, patch)
    }

    /// The step's views once every item has arrived (and forgets them).
    public func take(step: Int) -> StepViews? {
        guard let s = slots[step], s.missing == 0 else { return nil }
        slots[step] = nil
        let (first, second) = (s.first.map { $0! }, s.second.map { $0! })
        var digest = FNV1a64()
        for item in first.indices {
            [UInt64(item), UInt64(s.attempts[item])].withUnsafeBytes { digest.add($0) }
            Array(s.images[item].utf8).withUnsafeBytes { digest.add($0) }
            first[item].data.withUnsafeBytes { digest.add($0) }
            second[item].data.withUnsafeBytes { digest.add($0) }
        }
        var views = StepViews(step: step, levels: s.levels, first: first, second: second, replaced: s.replaced, digest: digest.value)
        for (level, detected) in zip(s.levels, s.fromDetection) where level == .lesionHigh || level == .lesionLow {
            if detected == true { views.sources.lesionFromDetection += 1 } else { views.sources.lesionFallback += 1 }
        }
        views.sources.skipped = s.skipped
        return views
    }
}
