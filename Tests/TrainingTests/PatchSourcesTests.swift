import Domain
import Logging
import Testing
import Training
import Wire

/// What the patch pipeline works around is counted per step: lesion patches cut around a
/// detection against random crops, and re-planned items by reason.
@Suite struct PatchSourcesTests {
    @Test func lesionFallbacksAndSkippedImagesAreCounted() throws {
        var config = TrainingConfig()
        (config.batch, config.steps, config.prefetch, config.run) = (8, 1, 0, "r")
        let planner = try BatchPlanner(entries: BatchPlannerTests.entries, needed: Level.allCases, batch: 8, seed: 3)
        var patches: [PatchRequest] = []
        var views: [AugmentRequest] = []
        let pipeline = PatchPipeline(
            config: config, planner: planner, firstStep: 0, logger: Logger(label: "test"),
            requestPatch: { patches.append($0) }, requestViews: { views.append($0) }, remakeViews: { views.append($0) },
            recutPatch: { patches.append($0) })
        pipeline.fill(current: 0)
        #expect(patches.count == 8)
        // The first lesion item's image is missing: it is re-planned from another image.
        let missing = patches.first { $0.level == .lesionHigh }!
        pipeline.failed(missing.id, ErrorReport(code: .notFound, message: "gone", id: missing.id))
        #expect(patches.count == 9)
        let pixels = try Tensor(dtype: .uint8, shape: [2, 2, 3], data: [UInt8](repeating: 0, count: 12))
        // Of the 4 lesion patches that arrive, only those of L are cut around a detection.
        for request in patches.dropFirst(8) + patches.prefix(8) where request.id != missing.id {
            let provenance = Provenance(
                imageID: request.imageID, window: Box(x: 0, y: 0, w: 2, h: 2, score: 0), fromDetection: request.level == .lesionHigh)
            pipeline.received(Patch(id: request.id, pixels: pixels, level: request.level, provenance: provenance))
        }
        let view = try Tensor(dtype: .float32, shape: [3, 1, 1], data: [UInt8](repeating: 0, count: 12))
        for request in views { pipeline.received(ViewPair(id: request.id, first: view, second: view, level: request.patch!.level)) }
        let step = try #require(pipeline.take(step: 0))
        #expect(step.sources.lesionFromDetection == 2 && step.sources.lesionFallback == 2)
        #expect(step.sources.skipped == ["missing": 1])
        #expect(step.sources.summary == "lesion patches 2/4 from detections; patches re-planned from another image: 1 missing")
    }
}
