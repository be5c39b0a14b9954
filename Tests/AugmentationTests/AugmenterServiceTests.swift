import Augmentation
import Domain
import Foundation
import ImageOps
import Synthetic
import TestSupport
import Testing
import Transport
import Wire

/// The augmenter as deployed: real `comcl-augmenter` processes on real ZeroMQ sockets. Every
/// answer is compared byte for byte with the library's own views of the same request.
@Suite(.serialized) struct AugmenterServiceTests {
    let context = ZMQContext()
    /// Patches cut from two synthetic fundus images, lesion and healthy levels, edges included.
    static let requests: [AugmentRequest] = {
        let images = (0..<2).map { SyntheticFundus.render(seed: 11, index: $0, size: 256, grade: 2 * $0, degradation: nil).image }
        let levels: [Level] = [.lesionHigh, .lesionLow, .healthyHigh, .healthyLow]
        return (0..<24).map { item in
            let image = images[item % 2]
            let x = (item * 37) % 129, y = (item * 53) % 129
            let pixels = try! Tensor(uint8: image.cropped(x: x, y: y, width: 128, height: 128).rgbImage().pixels, shape: [128, 128, 3])
            let provenance = Provenance(
                imageID: "img\(item % 2)", window: Box(x: Float(x), y: Float(y), w: 128, h: 128, score: 0), fromDetection: false)
            let patch = Patch(
                id: WorkID(run: "aug", step: UInt64(item / 8), item: UInt64(item)), pixels: pixels, level: levels[item % 4],
                provenance: provenance)
            return AugmentRequest(patch: patch, seed: 2024, recipe: Recipe.priorWorkDegraded.json())
        }
    }()

    /// What any replica must answer: the library's views, computed here.
    static let expected: [UInt64: ViewPair] = {
        let augmenter = Augmenter()
        return Dictionary(uniqueKeysWithValues: requests.map { ($0.id.item, try! augmenter.handle($0)) })
    }()

    /// `inline`: views come back in the answer (`--data-endpoint off`) instead of being kept at
    /// the augmenter's data endpoint.
    func augmenters(_ names: [String], endpoint: String, inline: Bool) throws -> [ChildProcess] {
        try names.map {
            try ChildProcess(
                "comcl-augmenter",
                ["--coordinator", endpoint, "--worker-id", $0, "--heartbeat", "0.2", "--data-endpoint", inline ? "off" : "auto"], name: $0)
        }
    }

    /// Submits every request once the replicas have joined, then polls until each item has a
    /// result and `until` holds; `during` sees the events as they come and may act on the replicas.
    /// Views kept at a data endpoint are fetched from there as they are announced (as an embedding
    /// worker would), their digest checked, and returned as the `ViewPair` they are.
    func run(
        replicas names: [String], inline: Bool = false, requests: [AugmentRequest] = Self.requests, deadline seconds: Double = 120,
        during: (([DistributorEvent], [ChildProcess]) -> Void)? = nil, until: ([DistributorEvent]) -> Bool = { _ in true }
    ) throws -> (results: [UInt64: Body], events: [DistributorEvent]) {
        let router = try ZMQRouter(context, bind: "tcp://127.0.0.1:*")
        let distributor = WorkDistributor(
            role: .augmenter, name: "test", endpoint: router.self,
            config: DistributorConfig(heartbeatInterval: 0.2, liveness: 5, itemTimeout: 60, maxAttempts: 3))
        let workers = try augmenters(names, endpoint: try router.socket.lastEndpoint, inline: inline)
        let client = DataClient(context, name: "test-worker", timeout: 5)
        defer { for w in workers { w.signal(SIGKILL) } }
        var events: [DistributorEvent] = []
        let joined = Date().addingTimeInterval(30)
        while distributor.workerCount < names.count, Date() < joined { events += try distributor.poll(timeout: 0.05) }
        try #require(distributor.workerCount == names.count, "\(workers.map(\.output))")
        for request in requests { distributor.submit(.augmentRequest(request)) }
        var results: [UInt64: Body] = [:]
        let deadline = Date().addingTimeInterval(seconds)
        while results.count < requests.count || !until(events), Date() < deadline {
            let new = try distributor.poll(timeout: 0.05)
            for event in new {
                switch event {
                case .result(let id, let body, _):
                    #expect(results[id.item] == nil, "item \(id.item) delivered twice")
                    results[id.item] = body
                    if case .viewsStored(let stored) = body {
                        #expect(!inline, "an augmenter with --data-endpoint off kept its views")
                        guard let pair = try? client.fetch([stored.endpoint: [id]])[id] else {
                            // Kept at a replica killed since (its last batch of results was on
                            // the way): made again, as the coordinator does when views are lost.
                            #expect(during != nil, "item \(id.item): views not served by a replica left alive")
                            results[id.item] = nil
                            let request = requests.first { Body.augmentRequest($0).workID == id }!
                            distributor.resubmit(.augmentRequest(request))
                            continue
                        }
                        #expect(ViewsDigest.of(pair.first, pair.second) == stored.digest, "item \(id.item): digest")
                        results[id.item] = .viewPair(pair)
                    }
                case .failed(let id, let report): results[id.item] = .error(report)
                default: break
                }
            }
            events += new
            during?(events, workers)
        }
        #expect(results.count == requests.count, "\(workers.map(\.output))")
        for w in workers where w.process.isRunning {
            w.signal(SIGTERM)
            #expect(w.wait(timeout: 10) == 0, "\(w.name) should stop cleanly on SIGTERM: \(w.output)")
        }
        return (results, events)
    }

    /// Events without their payloads, for failure messages.
    static func outline(_ events: [DistributorEvent]) -> String {
        events.map { event in
            switch event {
            case .result(let id, _, let worker): "result \(id.item) from \(worker)"
            case .joined(let ready): "joined \(ready.workerID)"
            default: "\(event)"
            }
        }.joined(separator: "; ")
    }

    func expectAllExpected(_ results: [UInt64: Body]) {
        for (item, pair) in Self.expected {
            guard case .viewPair(let got) = results[item] else {
                Issue.record("item \(item): \(String(describing: results[item]))"); continue
            }
            let same = got == pair  // compared outside #expect, which would print both tensors
            #expect(same, "item \(item) differs from the library's views")
        }
    }

    @Test func sameViewsWithOneOrTwoReplicas() throws {
        let one = try run(replicas: ["solo"])
        let two = try run(replicas: ["left", "right"])
        let inline = try run(replicas: ["solo"], inline: true)
        expectAllExpected(one.results)
        expectAllExpected(two.results)
        expectAllExpected(inline.results)
        let served = Set(two.events.compactMap { if case .result(_, _, let worker) = $0 { worker } else { nil } })
        #expect(served == ["left", "right"], "both replicas should have worked")
    }

    @Test func badRequestsFailClearlyAndTheReplicaCarriesOn() throws {
        var badRecipe = Self.requests[0], tiny = Self.requests[1]
        badRecipe.recipe = #"{"ops": [{"op": "random-affine", "degrees": 270}]}"#
        tiny.patch!.pixels = try Tensor(uint8: [UInt8](repeating: 0, count: 2 * 3 * 3), shape: [2, 3, 3])
        let outcome = try run(replicas: ["solo"], requests: [badRecipe, tiny, Self.requests[2]])
        guard case .error(let recipeError) = outcome.results[0], case .error(let sizeError) = outcome.results[1] else {
            Issue.record("bad requests should fail: \(Self.outline(outcome.events))")
            return
        }
        #expect(
            recipeError.code == .badInput
                && recipeError.message.contains("recipe: op 1 (random-affine): degrees must lie in [0.0, 180.0], got 270"))
        #expect(sizeError.code == .badInput && sizeError.message.contains("patch of 3x2"))
        let good = outcome.results[2] == .viewPair(Self.expected[2]!)
        #expect(good, "the good request after the bad ones should get its views")
    }

    @Test func killedReplicaLosesNoItem() throws {
        var killed = false
        let outcome = try run(replicas: ["doomed", "survivor"]) { events, workers in
            let done = events.filter { if case .result = $0 { true } else { false } }.count
            if !killed, done >= 4 {
                workers[0].signal(SIGKILL)
                killed = true
            }
        }
        #expect(killed)
        expectAllExpected(outcome.results)
        let reissued = outcome.events.contains { if case .lost(workerID: "doomed", _, let count) = $0 { count >= 1 } else { false } }
        #expect(reissued, "the killed replica should have held items, which were re-issued: \(Self.outline(outcome.events))")
    }

    @Test func frozenReplicaAnswersLateAndIsKeptOnce() throws {
        // SIGSTOP a replica holding items: it falls silent, is dropped, and its items go to the
        // other one. Once every item has its result, SIGCONT: the late answers arrive as duplicates.
        var frozen = false, thawed = false
        let isLate = { (event: DistributorEvent) -> Bool in if case .duplicate(_, workerID: "sleeper") = event { true } else { false } }
        let outcome = try run(
            replicas: ["sleeper", "awake"], deadline: 60,
            during: { events, workers in
                let done = events.filter { if case .result = $0 { true } else { false } }.count
                if !frozen, done >= 2 {
                    workers[0].signal(SIGSTOP)
                    frozen = true
                }
                if frozen, !thawed, done == Self.requests.count {
                    workers[0].signal(SIGCONT)
                    thawed = true
                }
            }, until: { $0.contains(where: isLate) })
        #expect(thawed)
        expectAllExpected(outcome.results)
        let reissued = outcome.events.contains { if case .lost(workerID: "sleeper", _, let count) = $0 { count >= 1 } else { false } }
        #expect(reissued, "the frozen replica should have held items: \(Self.outline(outcome.events))")
        let anyLate = outcome.events.contains(where: isLate)
        #expect(anyLate, "the thawed replica's answers should come back as duplicates and be dropped: \(Self.outline(outcome.events))")
    }
}
