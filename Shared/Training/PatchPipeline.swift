import Basics
import Domain
import Logging
import Wire

/// One step's views, in batch order: patch i's first view is row i of the loss, its second view
/// row B + i. Each patch's views are inline or kept at an augmenter's data endpoint.
public struct StepViews: Sendable {
    public var step: Int
    public var levels: [Level]
    public var views: [ViewSource]
    /// Items re-planned because their patch or views failed.
    public var replaced: Int
    /// Where the step's patches came from, and what was skipped.
    public var sources = PatchSources()
    /// FNV-1a 64 over each slot's (item, attempt, image, views digest) in batch order: a
    /// function of (seed, config, step) alone, so equal across runs however workers came and went.
    public var digest: UInt64

    public init(step: Int, levels: [Level], views: [ViewSource], replaced: Int, digest: UInt64 = 0) {
        (self.step, self.levels, self.views, self.replaced, self.digest) = (step, levels, views, replaced, digest)
    }
}

/// An item's patch: inline (from a cropper without a data endpoint), or where a cropper keeps it.
enum PatchPlace {
    case inline(Patch)
    case stored(PatchStored)
}

/// Carries each planned patch through detector/cropper -> augmenter, keeping up to `prefetch`
/// future steps in flight, and tracking every item until its views arrive (inline, or kept at
/// an augmenter's data endpoint). An item that fails (a corrupt image...) is re-planned from
/// another image of its level, up to `maxAttempts`; views lost with an augmenter are made again
/// from the patch, under the same id, so they come out the same (`remake`).
/// Work ids: PatchItemID (step, slot, attempt). A step's slots stay until `release`.
public final class PatchPipeline {
    public static let maxAttempts = 5
    let config: TrainingConfig
    let planner: BatchPlanner
    let logger: Logger
    let requestPatch: (PatchRequest) -> Void
    let recutPatch: (PatchRequest) -> Void
    let requestViews: (AugmentRequest) -> Void
    let remakeViews: (AugmentRequest) -> Void
    public private(set) var planned = 0  // steps submitted so far, from `firstStep`
    /// The step training now: views of earlier steps may be dropped by the augmenters.
    private var current = 0
    private var slots: [Int: Slots] = [:]
    /// Released steps' slots, from the step the coordinator's copy of the model holds on
    /// (`forget(before:)`): if every replica is lost they are taken again (`rewind`).
    private var archive: [Int: Slots] = [:]
    /// Steps being made again after a rewind: their requests reuse answered ids.
    private var replaying = Set<Int>()
    public private(set) var failure: String?
    /// Results dropped since the last `takeDropped()`: for an attempt since re-planned, a step
    /// already taken, or a slot already filled (so no item fills a slot twice).
    private var dropped = 0
    /// Patches cut again since the last `takeRecut()`, because the cropper keeping them could not
    /// be reached.
    private var recut = 0

    private struct Slots {
        var levels: [Level]
        var images: [String]
        var views: [ViewSource.Place?]
        var digests: [UInt64]
        /// Each item's patch (inline, or where a cropper keeps it), to make its views again if
        /// they are lost with an augmenter.
        var patches: [PatchPlace?]
        var attempts: [Int]
        var missing: Int
        /// Handed to the trainer (`take`); set back by `remake`.
        var taken = false
        var replaced = 0
        /// Per item: whether its (latest) patch was cut around a detected box.
        var fromDetection: [Bool?]
        var skipped: [String: Int] = [:]
    }

    public init(
        config: TrainingConfig, planner: BatchPlanner, firstStep: Int, logger: Logger,
        requestPatch: @escaping (PatchRequest) -> Void, requestViews: @escaping (AugmentRequest) -> Void,
        remakeViews: @escaping (AugmentRequest) -> Void, recutPatch: @escaping (PatchRequest) -> Void
    ) {
        (self.config, self.planner, self.logger, self.planned, current) = (config, planner, logger, firstStep, firstStep)
        (self.requestPatch, self.requestViews, self.remakeViews, self.recutPatch) = (requestPatch, requestViews, remakeViews, recutPatch)
    }

    /// Items of steps planned and not yet in.
    public var inFlight: Int { slots.values.reduce(0) { $0 + $1.missing } }

    /// Submits the steps up to `current + prefetch` (never past the run's last step).
    public func fill(current: Int) {
        self.current = current
        while planned <= min(current + config.prefetch, config.steps - 1) {
            let step = planned
            let plan = planner.plan(step: step)
            let n = plan.count
            slots[step] = Slots(
                levels: plan.map(\.level), images: plan.map(\.image), views: Array(repeating: nil, count: n),
                digests: Array(repeating: 0, count: n), patches: Array(repeating: nil, count: n), attempts: Array(repeating: 0, count: n),
                missing: n, fromDetection: Array(repeating: nil, count: n))
            for (item, patch) in plan.enumerated() { request(step: step, item: item, attempt: 0, patch) }
            planned += 1
        }
    }

    private func request(step: Int, item: Int, attempt: Int, _ patch: PlannedPatch) {
        slots[step]!.images[item] = patch.image
        requestPatch(patchRequest(step: step, item: item))
    }

    /// The item's patch request as planned (its latest attempt).
    private func patchRequest(step: Int, item: Int) -> PatchRequest {
        let s = slots[step]!
        let id = PatchItemID(run: config.run, step: step, slot: item, attempt: s.attempts[item]).workID
        return PatchRequest(
            id: id, imageID: s.images[item], path: s.images[item], level: s.levels[item], seed: config.seed, keepFromStep: UInt64(current))
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

    /// Patches cut again (see `recut`) since the last call.
    public func takeRecut() -> Int {
        defer { recut = 0 }
        return recut
    }

    /// Results dropped (see `dropped`) since the last call.
    public func takeDropped() -> Int {
        defer { dropped = 0 }
        return dropped
    }

    /// A patch from the cropper: on to the augmenter (and kept, to make its views again).
    public func received(_ patch: Patch) { received(.inline(patch), id: patch.id, provenance: patch.provenance) }

    /// A patch kept at a cropper's data endpoint: the augmenter fetches it there.
    public func received(_ stored: PatchStored) { received(.stored(stored), id: stored.id, provenance: stored.provenance) }

    private func received(_ place: PatchPlace, id: WorkID, provenance: Provenance) {
        guard let (step, item, _) = locate(id), slots[step]!.views[item] == nil else { return }
        slots[step]!.fromDetection[item] = provenance.fromDetection
        slots[step]!.patches[item] = place
        if replaying.contains(step) { remakeViews(augmentRequest(place)) } else { requestViews(augmentRequest(place)) }
    }

    private func augmentRequest(_ place: PatchPlace) -> AugmentRequest {
        switch place {
        case .inline(let patch): AugmentRequest(patch: patch, seed: config.seed, recipe: config.recipe, keepFromStep: UInt64(current))
        case .stored(let source): AugmentRequest(source: source, seed: config.seed, recipe: config.recipe, keepFromStep: UInt64(current))
        }
    }

    /// Views from an augmenter without a data endpoint: into their slot.
    public func received(_ pair: ViewPair) {
        fill(
            pair.id, .inline(first: pair.first, second: pair.second), digest: ViewsDigest.of(pair.first, pair.second),
            dtype: pair.first.dtype, shape: pair.first.shape)
    }

    /// Views kept at an augmenter's data endpoint: their place into the slot.
    public func received(_ stored: ViewsStored) {
        fill(stored.id, .stored(endpoint: stored.endpoint), digest: stored.digest, dtype: stored.dtype, shape: stored.shape)
    }

    /// Views must be normalised float32 [3, H, W] (the embedding workers' input).
    private func fill(_ id: WorkID, _ place: ViewSource.Place, digest: UInt64, dtype: DType, shape: [Int]) {
        guard let (step, item, _) = locate(id) else { return }
        guard slots[step]!.views[item] == nil else {
            dropped += 1
            return
        }
        guard dtype == .float32, shape.count == 3, shape[0] == 3 else {
            failure =
                "the augmenter returned \(dtype) views of shape \(shape); training needs normalised float32 [3, H, W] (the recipe must end with normalize)"
            return
        }
        slots[step]!.views[item] = place
        slots[step]!.digests[item] = digest
        slots[step]!.missing -= 1
    }

    /// The views kept at `endpoint` are lost (its augmenter left, or a worker could not fetch
    /// them): each is made again from its patch under the same id. Returns the steps touched,
    /// which must be taken again once complete, and the view pairs remade.
    public func remake(at endpoint: String) -> (steps: Set<Int>, items: Int) {
        var touched = Set<Int>()
        var items = 0
        for (step, s) in slots {
            for item in s.views.indices where s.views[item] == .stored(endpoint: endpoint) {
                guard let patch = s.patches[item] else { continue }
                slots[step]!.views[item] = nil
                slots[step]!.missing += 1
                slots[step]!.taken = false
                touched.insert(step)
                items += 1
                remakeViews(augmentRequest(patch))
            }
        }
        if !touched.isEmpty {
            logger.warning("views kept at \(endpoint) are lost: making \(items) again, of steps \(touched.sorted().map { $0 + 1 })")
        }
        return (touched, items)
    }

    /// Puts a step aside once the replicas took it (`rewind` may need it again).
    public func release(step: Int) {
        archive[step] = slots.removeValue(forKey: step)
        replaying.remove(step)
    }

    /// Forgets the steps before `step`: the coordinator's copy of the model holds `step`.
    public func forget(before step: Int) { archive = archive.filter { $0.key >= step } }

    /// Every replica was lost: the run goes on from the coordinator's copy at `step`, so the
    /// steps from there are taken again. Their patches are cut again and their views made again
    /// under the same ids, so they are the same; steps still in the pipeline are taken again as
    /// they are.
    public func rewind(to step: Int) {
        let again = archive.keys.filter { $0 >= step }.sorted()
        for number in again {
            var slot = archive.removeValue(forKey: number)!
            let n = slot.views.count
            (slot.views, slot.patches, slot.digests) = (
                Array(repeating: nil, count: n), Array(repeating: nil, count: n), Array(repeating: 0, count: n)
            )
            (slot.missing, slot.fromDetection) = (n, Array(repeating: nil, count: n))
            slots[number] = slot
            replaying.insert(number)
        }
        for number in slots.keys { slots[number]!.taken = false }
        current = step
        for number in again { for item in slots[number]!.views.indices { recutPatch(patchRequest(step: number, item: item)) } }
    }

    /// An item failed on either link: its patch could not be fetched from the cropper keeping it
    /// (cut it again, same id, same patch), or it failed for good (re-plan it from another image
    /// of its level).
    public func failed(_ id: WorkID, _ report: ErrorReport) {
        guard let (step, item, attempt) = locate(id) else { return }
        guard slots[step]!.views[item] == nil else {
            dropped += 1  // a failure for an item whose views are in
            return
        }
        if !report.dataEndpoint.isEmpty {
            logger.warning("step \(step) item \(item): \(report.message); cutting its patch again")
            slots[step]!.patches[item] = nil
            recut += 1
            recutPatch(patchRequest(step: step, item: item))
            return
        }
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

    /// The step's views once every item has arrived and the step is not taken yet.
    public func take(step: Int) -> StepViews? {
        guard let s = slots[step], s.missing == 0, !s.taken else { return nil }
        slots[step]!.taken = true
        var digest = FNV1a64()
        for item in s.views.indices {
            [UInt64(item), UInt64(s.attempts[item])].withUnsafeBytes { digest.add($0) }
            Array(s.images[item].utf8).withUnsafeBytes { digest.add($0) }
            [s.digests[item]].withUnsafeBytes { digest.add($0) }
        }
        let sources = s.views.indices.map {
            ViewSource(id: PatchItemID(run: config.run, step: step, slot: $0, attempt: s.attempts[$0]).workID, s.views[$0]!)
        }
        var views = StepViews(step: step, levels: s.levels, views: sources, replaced: s.replaced, digest: digest.value)
        for (level, detected) in zip(s.levels, s.fromDetection) where level == .lesionHigh || level == .lesionLow {
            if detected == true { views.sources.lesionFromDetection += 1 } else { views.sources.lesionFallback += 1 }
        }
        views.sources.skipped = s.skipped
        return views
    }
}
