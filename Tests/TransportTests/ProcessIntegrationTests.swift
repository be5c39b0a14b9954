import Foundation
import TestSupport
import Testing
import Transport
import Wire

/// The reliable work-distribution block between real processes over real sockets:
/// a WorkDistributor here, `comcl-transport-probe` workers as child processes.
@Suite(.serialized) struct ProcessIntegrationTests {
    let context = ZMQContext()

    func router(_ endpoint: String) throws -> (ZMQRouter, String) {
        let router = try ZMQRouter(context, bind: endpoint)
        return (router, try router.socket.lastEndpoint)
    }

    func probe(_ endpoint: String, _ name: String, _ extra: [String] = []) throws -> ChildProcess {
        try ChildProcess(
            "comcl-transport-probe",
            ["--coordinator", endpoint, "--worker-id", name, "--heartbeat", "0.2", "--log-level", "debug"] + extra,
            name: name)
    }

    static func request(_ item: UInt64) -> Body {
        .patchRequest(
            PatchRequest(
                id: WorkID(run: "it", step: 1, item: item), imageID: "i\(item)", path: "x/\(item).png", level: .healthyLow, seed: 5))
    }

    /// Polls until `done` or `timeout` seconds; returns every event.
    func drive(_ distributor: WorkDistributor, timeout: Double, until done: ([DistributorEvent]) -> Bool) throws -> [DistributorEvent] {
        var events: [DistributorEvent] = []
        let deadline = Date().addingTimeInterval(timeout)
        while !done(events), Date() < deadline { events += try distributor.poll(timeout: 0.05) }
        return events
    }

    /// Results by item; fails the test on a wrong payload.
    func results(_ events: [DistributorEvent]) -> [UInt64: String] {
        var byItem: [UInt64: String] = [:]
        for case let .result(id, body, worker) in events {
            guard case .patch(let patch) = body else { Issue.record("unexpected \(body.kind)"); continue }
            #expect(patch.pixels.data == Self.pixels(item: id.item), "item \(id) has wrong pixels")
            #expect(byItem[id.item] == nil, "item \(id) delivered twice")
            byItem[id.item] = worker
        }
        return byItem
    }

    static func pixels(item: UInt64) -> [UInt8] { (0..<12).map { UInt8((item &* 31 &+ UInt64($0)) % 251) } }

    func config() -> DistributorConfig { DistributorConfig(heartbeatInterval: 0.2, liveness: 3, itemTimeout: 5, maxAttempts: 3) }

    func everyItemOnce(over bind: String) throws {
        let (router, endpoint) = try router(bind)
        let distributor = WorkDistributor(role: .augmenter, name: "test", endpoint: router, config: config())
        let workers = try ["p1", "p2"].map { try probe(endpoint, $0, ["--delay", "0.01"]) }
        for item in 0..<40 { distributor.submit(Self.request(UInt64(item))) }
        let events = try drive(distributor, timeout: 30) { results($0).count == 40 }
        let done = results(events)
        #expect(done.count == 40)
        #expect(Set(done.values) == ["p1", "p2"], "both workers should have worked")
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers { #expect(worker.wait(timeout: 10) == 0, "\(worker.name): \(worker.output)") }
    }

    @Test func everyItemAnsweredOnceOverTCP() throws {
        try everyItemOnce(over: "tcp://127.0.0.1:*")
    }

    @Test func everyItemAnsweredOnceOverIPC() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-\(UUID().uuidString.prefix(8)).ipc").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try everyItemOnce(over: "ipc://\(path)")
    }

    /// A worker of capacity 8 (the services' default) answers in batches over real sockets:
    /// every item once, in far fewer messages than items (docs/protocol.md, "Batches").
    @Test func resultsComeBackInBatches() throws {
        let (router, endpoint) = try router("tcp://127.0.0.1:*")
        let counting = CountingRouter(router)
        let distributor = WorkDistributor(role: .augmenter, name: "test", endpoint: counting, config: config())
        let worker = try probe(endpoint, "batching", ["--delay", "0.005", "--capacity", "8"])
        _ = try drive(distributor, timeout: 10) { _ in distributor.workerCount == 1 }
        for item in 0..<80 { distributor.submit(Self.request(UInt64(item))) }
        let events = try drive(distributor, timeout: 30) { results($0).count == 80 }
        #expect(results(events).count == 80)
        #expect(counting.batches > 0, "no message carried more than one result")
        #expect(counting.batchedEnvelopes >= 40, "\(counting.batchedEnvelopes) of 80 results came in batches")
        worker.signal(SIGTERM)
        #expect(worker.wait(timeout: 10) == 0, "\(worker.output)")
    }

    @Test func killedWorkerLosesNoItem() throws {
        let (router, endpoint) = try router("tcp://127.0.0.1:*")
        let distributor = WorkDistributor(role: .augmenter, name: "test", endpoint: router, config: config())
        let doomed = try probe(endpoint, "doomed", ["--die-after", "3", "--delay", "0.02"])
        _ = try drive(distributor, timeout: 10) { _ in distributor.workerCount == 1 }
        let survivor = try probe(endpoint, "survivor", ["--delay", "0.02"])
        for item in 0..<30 { distributor.submit(Self.request(UInt64(item))) }
        let events = try drive(distributor, timeout: 30) { results($0).count == 30 }
        #expect(results(events).count == 30)
        #expect(doomed.wait(timeout: 5) == 9, "the doomed probe should have died mid-item")
        #expect(events.contains { if case .lost(workerID: "doomed", _, let reissued) = $0 { reissued >= 1 } else { false } })
        survivor.signal(SIGTERM)
        #expect(survivor.wait(timeout: 10) == 0)
    }

    @Test func sigtermFinishesTheCurrentItemAndHandsBackTheRest() throws {
        let (router, endpoint) = try router("tcp://127.0.0.1:*")
        let distributor = WorkDistributor(role: .augmenter, name: "test", endpoint: router, config: config())
        let leaving = try probe(endpoint, "leaving", ["--delay", "0.5", "--capacity", "2"])
        _ = try drive(distributor, timeout: 10) { _ in distributor.workerCount == 1 }
        for item in 0..<6 { distributor.submit(Self.request(UInt64(item))) }
        _ = try drive(distributor, timeout: 0.3) { _ in false }
        leaving.signal(SIGTERM)
        let events = try drive(distributor, timeout: 10) { e in e.contains { if case .lost = $0 { true } else { false } } }
        #expect(leaving.wait(timeout: 5) == 0, "\(leaving.output)")
        #expect(events.contains { if case .lost(workerID: "leaving", reason: "stopped", _) = $0 { true } else { false } })
        #expect(results(events).count == 1, "the item in progress is finished before leaving")
        let staying = try probe(endpoint, "staying")
        let rest = try drive(distributor, timeout: 20) { results(events + $0).count == 6 }
        #expect(results(events + rest).count == 6)
        staying.signal(SIGTERM)
        #expect(staying.wait(timeout: 10) == 0)
    }

    @Test func peerOfAnotherProtocolVersionGetsAClearError() throws {
        let (router, endpoint) = try router("tcp://127.0.0.1:*")
        let distributor = WorkDistributor(role: .augmenter, name: "test", endpoint: router, config: config())
        let old = try probe(endpoint, "old", ["--protocol-version", "1"])
        let events = try drive(distributor, timeout: 10) { !$0.isEmpty }
        #expect(
            events.first.map { if case .rejected(_, let reason) = $0 { reason.contains("version 1, we speak version 3") } else { false } }
                == true)
        #expect(old.wait(timeout: 10) == 0)
        #expect(old.output.contains("protocolVersion"), "the old peer hears why: \(old.output)")
        #expect(distributor.workerCount == 0)
    }
}

/// A router that counts the messages of several frames it receives (batches).
final class CountingRouter: RouterEndpoint {
    let inner: ZMQRouter
    private(set) var batches = 0, batchedEnvelopes = 0

    init(_ inner: ZMQRouter) { self.inner = inner }

    func receive(timeout: Double) throws -> RoutedMessage? {
        let message = try inner.receive(timeout: timeout)
        if let frames = message?.frames, frames.count > 1 { (batches, batchedEnvelopes) = (batches + 1, batchedEnvelopes + frames.count) }
        return message
    }

    func send(frames: [[UInt8]], to peer: PeerID) throws { try inner.send(frames: frames, to: peer) }
}
