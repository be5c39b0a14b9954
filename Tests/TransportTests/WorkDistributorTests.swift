import Testing
import Transport
import Wire

/// The router-side protocol logic against the in-memory fake, time moved by hand.
@Suite struct WorkDistributorTests {
    let net = InMemoryNetwork()
    let clock = ManualTime(100)
    let distributor: WorkDistributor

    init() {
        distributor = WorkDistributor(
            role: .augmenter, name: "coord", endpoint: net,
            config: DistributorConfig(heartbeatInterval: 1, liveness: 3, itemTimeout: 10, maxAttempts: 3), time: clock)
    }

    // A worker the test plays.
    func join(_ name: String, capacity: Int = 1, role: Role = .augmenter, batches: Bool = false) -> [DistributorEvent] {
        net.connect(Array(name.utf8))
        return say(name, .ready(Ready(role: role, workerID: name, capacity: capacity, batches: batches)))
    }

    @discardableResult
    func say(_ name: String, _ body: Body) -> [DistributorEvent] {
        net.deliver(from: Array(name.utf8), frames: [Envelope(sender: name, body: body).encoded()])
        return (try? distributor.poll(timeout: 0)) ?? []
    }

    /// Moves time on a second at a time, the named workers heartbeating; all events.
    func tick(_ seconds: Int, alive: [String]) -> [DistributorEvent] {
        (0..<seconds).flatMap { _ in
            clock.advance(1)
            return alive.flatMap { say($0, .heartbeat(Heartbeat(sequence: 1))) }
        }
    }

    /// Work items the worker has received (heartbeats and errors left out).
    func items(_ name: String) -> [WorkID] {
        net.drain(Array(name.utf8)).compactMap { bytes in
            guard let body = try? Envelope.decode(bytes).body, case .patchRequest(let request) = body else { return nil }
            return request.id
        }
    }

    func errors(_ name: String) -> [ErrorReport] {
        net.drain(Array(name.utf8)).compactMap { bytes in
            guard case .error(let report)? = try? Envelope.decode(bytes).body else { return nil }
            return report
        }
    }

    static func id(_ item: UInt64) -> WorkID { WorkID(run: "r", step: 0, item: item) }

    func submit(_ count: UInt64) {
        for item in 0..<count {
            distributor.submit(
                .patchRequest(PatchRequest(id: Self.id(item), imageID: "i\(item)", path: "p\(item).png", level: .lesionHigh, seed: 1)))
        }
    }

    func result(_ item: UInt64) -> Body {
        .patch(
            Patch(
                id: Self.id(item), pixels: try! Tensor(uint8: [1, 2, 3], shape: [1, 1, 3]), level: .lesionHigh,
                provenance: Provenance(imageID: "i", window: Box(x: 0, y: 0, w: 1, h: 1, score: 0), fromDetection: false)))
    }

    @Test func handsOutWorkWithinEachWorkersCredit() throws {
        #expect(join("a", capacity: 2) == [.joined(Ready(role: .augmenter, workerID: "a", capacity: 2))])
        _ = join("b", capacity: 1)
        submit(5)
        _ = try distributor.poll(timeout: 0)
        #expect(items("a").count == 2)
        let held = items("b")
        #expect(held.count == 1)
        #expect(distributor.pending == 2)
        say("b", result(held[0].item))
        #expect(items("b").count == 1)  // b's credit came back: it gets the next item
    }

    /// A pass that finds every worker's credit used stops there; the queue keeps its order, so
    /// items still go out first come, first served as credit comes back.
    @Test func queuedItemsGoInTheirOrderAsCreditReturns() throws {
        _ = join("a", capacity: 2)
        submit(40)
        _ = try distributor.poll(timeout: 0)
        var received = items("a")
        #expect(received == [Self.id(0), Self.id(1)])
        var answered = 0
        while answered < received.count {
            say("a", result(received[answered].item))
            answered += 1
            received += items("a")
        }
        #expect(received == (0..<40).map { Self.id($0) })
        #expect(distributor.outstanding == 0)
    }

    @Test func resultsAreKeptOnce() throws {
        _ = join("a")
        submit(1)
        _ = try distributor.poll(timeout: 0)
        #expect(say("a", result(0)) == [.result(Self.id(0), result(0), workerID: "a")])
        #expect(say("a", result(0)) == [.duplicate(Self.id(0), workerID: "a")])
        #expect(distributor.outstanding == 0)
        #expect(
            distributor.submit(.patchRequest(PatchRequest(id: Self.id(0), imageID: "i", path: "p", level: .lesionHigh, seed: 1))) == false)
    }

    @Test func lateItemIsReissuedAndTheFirstAnswerWins() throws {
        _ = join("slow")
        submit(1)
        _ = try distributor.poll(timeout: 0)
        #expect(items("slow") == [Self.id(0)])
        _ = join("fast")
        let events = tick(11, alive: ["slow", "fast"])
        #expect(events.contains(.timedOut(Self.id(0), workerID: "slow", attempt: 1)))
        #expect(items("fast") == [Self.id(0)])
        // The slow worker answers after all: accepted once; the re-issued copy is a duplicate.
        #expect(say("slow", result(0)) == [.result(Self.id(0), result(0), workerID: "slow")])
        #expect(say("fast", result(0)) == [.duplicate(Self.id(0), workerID: "fast")])
    }

    @Test func silentWorkerIsDroppedAndItsItemsReissued() throws {
        _ = join("dead", capacity: 2)
        submit(2)
        _ = try distributor.poll(timeout: 0)
        #expect(items("dead").count == 2)
        _ = join("alive", capacity: 2)
        let events = tick(4, alive: ["alive"])
        #expect(events.contains(.lost(workerID: "dead", reason: "silent for 4 s", reissued: 2)))
        #expect(items("alive").count == 2)
    }

    @Test func goodbyeReissuesAtOnce() throws {
        _ = join("leaving", capacity: 2)
        _ = join("staying", capacity: 2)
        submit(4)
        _ = try distributor.poll(timeout: 0)
        _ = items("staying")
        var goodbye = Status(role: .augmenter, workerID: "leaving", state: .stopped)
        goodbye.detail = "signal"
        let events = say("leaving", .status(goodbye))
        #expect(events.contains(.lost(workerID: "leaving", reason: "stopped", reissued: 2)))
        say("staying", result(items("staying").first?.item ?? 0))
        #expect(distributor.workerCount == 1)
    }

    @Test func unreachableWorkerIsDropped() throws {
        _ = join("gone")
        net.disconnect(Array("gone".utf8))
        submit(1)
        let events = try distributor.poll(timeout: 0)
        #expect(events.contains { if case .lost(workerID: "gone", _, reissued: 1) = $0 { true } else { false } })
        #expect(distributor.pending == 1)
    }

    @Test func malformedMessageGetsAnErrorAndTheLinkGoesOn() throws {
        _ = join("a")
        net.deliver(from: Array("a".utf8), frames: [[0xFF, 0x01, 0x02]])
        let events = try distributor.poll(timeout: 0)
        #expect(events == [.rejected(workerID: "a", reason: "message of 3 bytes is not a valid comcl.v1.Envelope")])
        #expect(errors("a").map(\.code) == [.malformed])
        submit(1)
        _ = try distributor.poll(timeout: 0)
        #expect(items("a") == [Self.id(0)])
    }

    @Test func peerOfAnotherProtocolVersionIsRefused() throws {
        net.connect(Array("old".utf8))
        let ready = Envelope(sender: "old", body: .ready(Ready(role: .augmenter, workerID: "old"))).encoded(version: 1)
        net.deliver(from: Array("old".utf8), frames: [ready])
        let events = try distributor.poll(timeout: 0)
        #expect(
            events == [.rejected(workerID: "peer-6f6c64", reason: "peer speaks protocol version 1, we speak version 3: upgrade one side")])
        #expect(errors("old").map(\.code) == [.protocolVersion])
        #expect(distributor.workerCount == 0)
    }

    @Test func reqSocketFramesAreExplained() throws {
        net.connect(Array("req".utf8))
        net.deliver(from: Array("req".utf8), frames: [[], Envelope(sender: "req", body: .heartbeat(Heartbeat(sequence: 1))).encoded()])
        let events = try distributor.poll(timeout: 0)
        guard case .rejected(_, let reason)? = events.first else { Issue.record("not rejected"); return }
        #expect(reason.contains("use DEALER"))
    }

    @Test func wrongRoleIsRefused() throws {
        #expect(join("emb", role: .embeddingWorker).count == 1)
        #expect(errors("emb").map(\.code) == [.wrongRole])
        #expect(distributor.workerCount == 0)
    }

    @Test func workerOfAnotherRunIsRefusedAndOfThisRunAccepted() throws {
        let guarded = WorkDistributor(
            role: .augmenter, name: "coord", endpoint: net, config: DistributorConfig(runToken: "run-a"), time: clock)
        for (name, token) in [("other", "run-b"), ("none", ""), ("ours", "run-a")] {
            net.connect(Array(name.utf8))
            net.deliver(
                from: Array(name.utf8),
                frames: [Envelope(sender: name, body: .ready(Ready(role: .augmenter, workerID: name, runToken: token))).encoded()])
        }
        let events = try guarded.poll(timeout: 0)
        #expect(events.filter { if case .rejected = $0 { true } else { false } }.count == 2)
        #expect(guarded.workers.map(\.workerID) == ["ours"])
        let refusal = errors("other")
        #expect(refusal.map(\.code) == [.wrongRun])
        #expect(refusal.first?.message.contains("--base-port") == true)
        #expect(errors("none").map(\.code) == [.wrongRun])
    }

    @Test func routerWithoutTokenAcceptsAnyRun() throws {
        net.connect(Array("w".utf8))
        #expect(say("w", .ready(Ready(role: .augmenter, workerID: "w", runToken: "some-run"))).count == 1)
        #expect(distributor.workerCount == 1)
    }

    @Test func strangerIsAskedToSayReady() throws {
        net.connect(Array("x".utf8))
        #expect(say("x", .heartbeat(Heartbeat(sequence: 1))).isEmpty)
        #expect(errors("x").map(\.code) == [.unknownPeer])
    }

    @Test func badInputFailsAtOnceButInternalErrorsAreRetried() throws {
        _ = join("a", capacity: 2)
        submit(2)
        _ = try distributor.poll(timeout: 0)
        _ = items("a")
        let bad = say("a", .error(ErrorReport(code: .badInput, message: "corrupt PNG", id: Self.id(0))))
        #expect(bad == [.failed(Self.id(0), ErrorReport(code: .badInput, message: "corrupt PNG", id: Self.id(0)))])
        for attempt in 1...3 {
            let events = say("a", .error(ErrorReport(code: .internalError, message: "oops", id: Self.id(1))))
            if attempt < 3 {
                #expect(events.isEmpty)
                #expect(items("a") == [Self.id(1)])
            } else {
                #expect(events.count == 1)
            }
        }
        #expect(distributor.outstanding == 0)
    }

    @Test func heartbeatsGoBothWays() throws {
        _ = join("a")
        _ = net.drain(Array("a".utf8))
        clock.advance(1.0)
        _ = try distributor.poll(timeout: 0)
        let beats = net.drain(Array("a".utf8)).compactMap { try? Envelope.decode($0).body }
        #expect(beats.contains { if case .heartbeat = $0 { true } else { false } })
        say("a", .heartbeat(Heartbeat(sequence: 7)))
        #expect(distributor.peerStatus.first?.heartbeats == 1)
    }

    @Test func anyoneMayAskForStatus() throws {
        _ = join("a")
        net.connect(Array("ctl".utf8))
        say("ctl", .statusRequest(StatusRequest()))
        let replies = net.drain(Array("ctl".utf8)).compactMap { try? Envelope.decode($0).body }
        guard case .status(let status)? = replies.first else { Issue.record("no status"); return }
        #expect(status.peers.map(\.workerID) == ["a"])
    }
}

/// Items pinned to one worker (state it holds): they wait for that worker's credit, never go to
/// another worker, have no deadline, and fail as `unavailable` when that worker leaves.
extension WorkDistributorTests {
    func pin(_ item: UInt64, to worker: String) -> (accepted: Bool, events: [DistributorEvent]) {
        distributor.submit(
            .patchRequest(PatchRequest(id: Self.id(item), imageID: "i", path: "p.png", level: .lesionHigh, seed: 1)), to: worker)
    }

    @Test func pinnedItemsGoOnlyToTheirWorker() throws {
        _ = join("a", capacity: 1)
        _ = join("b", capacity: 1)
        #expect(pin(0, to: "a").accepted)
        #expect(pin(1, to: "a").accepted)
        submit(0)  // id 0 again: refused, already known
        distributor.submit(.patchRequest(PatchRequest(id: Self.id(7), imageID: "i", path: "p.png", level: .lesionHigh, seed: 1)))
        _ = try distributor.poll(timeout: 0)
        #expect(items("a") == [Self.id(0)])
        #expect(items("b") == [Self.id(7)])  // the unpinned item passes the pinned one waiting for a
        say("b", result(7))
        // No deadline: a pinned item is not re-issued while its worker heartbeats.
        #expect(!tick(15, alive: ["a", "b"]).contains { if case .timedOut = $0 { true } else { false } })
        say("a", result(0))
        #expect(items("a") == [Self.id(1)])
    }

    @Test func pinnedItemsFailWhenTheirWorkerLeaves() throws {
        _ = join("a", capacity: 1)
        _ = join("b", capacity: 1)
        _ = pin(0, to: "a")
        _ = pin(1, to: "a")
        _ = try distributor.poll(timeout: 0)
        let events = say("a", .status(Status(role: .augmenter, workerID: "a", state: .stopped)))
        let failed = events.compactMap { if case .failed(let id, let report) = $0, report.code == .unavailable { id } else { nil } }
        #expect(failed == [Self.id(0), Self.id(1)])
        #expect(distributor.outstanding == 0)
        #expect(items("b").isEmpty)
        // Pinning to a worker that is not there fails at once.
        let absent = pin(2, to: "gone")
        #expect(absent.accepted && absent.events.count == 1)
    }
}

/// Batches (docs/protocol.md): a worker that says `Ready.batches` gets what one pass hands it in
/// one message and may answer several items in one, each frame taken as a message of its own.
extension WorkDistributorTests {
    @Test func aWorkerThatBatchesGetsOnePassInOneMessage() throws {
        _ = join("b", capacity: 4, batches: true)
        _ = join("single", capacity: 2)
        let (b, single) = (Array("b".utf8), Array("single".utf8))
        let before = (net.messages(to: b), net.messages(to: single))  // the first heartbeats
        submit(6)
        _ = try distributor.poll(timeout: 0)
        #expect(items("b").count == 4)
        #expect(net.messages(to: b) - before.0 == 1)
        #expect(items("single").count == 2)
        #expect(net.messages(to: single) - before.1 == 2)
    }

    @Test func aBatchOfResultsIsTakenFrameByFrame() throws {
        _ = join("b", capacity: 4, batches: true)
        let heartbeats = net.messages(to: Array("b".utf8))
        submit(6)
        _ = try distributor.poll(timeout: 0)
        let held = items("b")
        let frames = [result(held[0].item), result(held[1].item)].map { Envelope(sender: "b", body: $0).encoded() } + [[0xFF, 0x01]]
        net.deliver(from: Array("b".utf8), frames: frames + [Envelope(sender: "b", body: result(held[0].item)).encoded()])
        let events = try distributor.poll(timeout: 0)
        #expect(events.filter { if case .result = $0 { true } else { false } }.count == 2)
        #expect(events.contains(.duplicate(held[0], workerID: "b")))
        #expect(events.contains { if case .rejected = $0 { true } else { false } }, "the bad frame is refused on its own")
        #expect(errors("b").map(\.code) == [.malformed])
        // Two credits came back: the two items left go out together.
        submit(0)
        _ = try distributor.poll(timeout: 0)
        #expect(distributor.pending == 0)
        #expect(net.messages(to: Array("b".utf8)) - heartbeats == 3)  // the first batch, the error, the second batch
    }
}
