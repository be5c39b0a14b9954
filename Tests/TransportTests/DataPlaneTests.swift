import Logging
import Testing
import Transport
import Wire

/// The data plane's parts over real ZeroMQ sockets: an augmenter's kept views, its data endpoint,
/// and the embedding worker's client (the whole path between processes: FaultToleranceTests and
/// TrainingIntegrationTests).
@Suite struct DataPlaneTests {
    let context = ZMQContext()

    static func pair(step: UInt64, item: UInt64) throws -> ViewPair {
        let first = try Tensor(float32: [Float](repeating: Float(item), count: 3 * 4 * 4), shape: [3, 4, 4])
        let second = try Tensor(float32: [Float](repeating: -Float(item), count: 3 * 4 * 4), shape: [3, 4, 4])
        return ViewPair(id: WorkID(run: "r", step: step, item: item), first: first, second: second, level: .lesionLow)
    }

    static func keep(_ kept: KeptViews, step: UInt64, item: UInt64, keepFromStep: UInt64) throws {
        kept.put(try pair(step: step, item: item), id: WorkID(run: "r", step: step, item: item), keepFromStep: keepFromStep)
    }

    @Test func keptViewsFollowTheCoordinatorsStepAndACountBound() throws {
        let kept = KeptViews(limit: 3)
        for item in 0..<2 { try Self.keep(kept, step: 0, item: UInt64(item), keepFromStep: 0) }
        try Self.keep(kept, step: 1, item: 0, keepFromStep: 1)  // step 0 is done
        #expect(kept.count == 1)
        #expect(kept.fetch([WorkID(run: "r", step: 0, item: 0)]).missing.count == 1)
        for item in 1..<4 { try Self.keep(kept, step: 2, item: UInt64(item), keepFromStep: 1) }
        #expect(kept.count == 3)
        #expect(kept.evicted == 1)  // the oldest (step 1) went first
        #expect(kept.fetch([WorkID(run: "r", step: 2, item: 3)]).found == [try Self.pair(step: 2, item: 3)])
    }

    @Test func aWorkerFetchesFromSeveralEndpointsAndHearsWhichFailed() throws {
        let (a, b) = (KeptViews(), KeptViews())
        for item in 0..<70 { try Self.keep(a, step: 1, item: UInt64(item), keepFromStep: 0) }  // two requests' worth
        try Self.keep(b, step: 1, item: 100, keepFromStep: 0)
        let logger = Logger(label: "test")
        let serverA = try DataServer(context, bind: "tcp://127.0.0.1:*", views: a, name: "a", logger: logger)
        let serverB = try DataServer(context, bind: "tcp://127.0.0.1:*", views: b, name: "b", logger: logger)
        let client = DataClient(context, name: "worker", timeout: 1)
        let wanted = [
            serverA.endpoint: (0..<70).map { WorkID(run: "r", step: 1, item: UInt64($0)) },
            serverB.endpoint: [WorkID(run: "r", step: 1, item: 100)],
        ]
        let views = try client.fetch(wanted)
        #expect(views.count == 71)
        #expect(views[WorkID(run: "r", step: 1, item: 69)] == (try Self.pair(step: 1, item: 69)))

        // An item the augmenter no longer keeps, then an augmenter that is gone: both name the endpoint.
        do {
            _ = try client.fetch([serverB.endpoint: [WorkID(run: "r", step: 1, item: 101)]])
            Issue.record("a missing item was not reported")
        } catch let error as DataUnavailable {
            #expect(error.dataEndpoint == serverB.endpoint && "\(error)".contains("no longer keeps 1 of the 1"))
        }
        serverB.stop()
        do {
            _ = try client.fetch(wanted)
            Issue.record("a stopped endpoint was not reported")
        } catch let error as DataUnavailable {
            #expect(error.dataEndpoint == serverB.endpoint && error.code == .unavailable)
        }
        // The client recovers: the endpoint still serving answers again.
        #expect(try client.fetch([serverA.endpoint: [WorkID(run: "r", step: 1, item: 3)]]).count == 1)
        serverA.stop()
    }
}
