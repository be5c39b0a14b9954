import Testing
import Training
import Wire

/// Mixed pools: a step's batch-norm blocks shared in proportion to measured worker speed.
struct WorkerSpeedsTests {
    @Test func equalSharesGiveTheEvenSplitBlockForBlock() {
        for (batch, group, workers) in [(16, 4, 3), (400, 20, 2), (400, 20, 7), (32, 4, 5)] {
            let even = (0..<min(workers, batch / group)).map { s in
                (batch / group * s / min(workers, batch / group) * group)..<(batch / group * (s + 1) / min(workers, batch / group) * group)
            }
            #expect(Sharding.shards(batch: batch, group: group, shares: Array(repeating: 2.5, count: workers)) == even)
        }
    }

    @Test func sharesFollowSpeedWithAtLeastOneBlockEach() {
        // 20 blocks: a worker 3x faster takes 3/4 of them; whole groups, contiguous, covering the batch.
        #expect(Sharding.shards(batch: 400, group: 20, shares: [3, 1]) == [0..<300, 300..<400])
        // 10 blocks, 8 beyond the one each: quotas 6.4 and 1.6 -> 7 + 1 blocks, then the larger fraction (0.6) gets the last.
        #expect(Sharding.shards(batch: 40, group: 4, shares: [8, 2]) == [0..<28, 28..<40])
        // A worker 100x slower still gets one block (it is in the step: its replica must step too).
        let ranges = Sharding.shards(batch: 80, group: 4, shares: [100, 1, 1])
        #expect(ranges.map(\.count) == [72, 4, 4])
        #expect(ranges.first!.lowerBound == 0 && ranges.last!.upperBound == 80)
        // Unknown or broken speeds fall back to the even split.
        #expect(Sharding.shards(batch: 16, group: 4, shares: [1, .nan]) == Sharding.shards(batch: 16, group: 4, workers: 2))
    }

    static func ready(_ id: String, _ software: String) -> Ready { Ready(role: .embeddingWorker, workerID: id, software: software) }

    @Test func autoBalancesOnlyAMixedPool() {
        var speeds = WorkerSpeeds()
        for (worker, seconds) in [("a", 1.0), ("b", 0.25)] {
            speeds.forward(worker, rows: 40, seconds: seconds / 2)
            speeds.backward(worker, seconds: seconds / 2)
        }
        #expect(speeds.rate(of: "a") == 40 && speeds.rate(of: "b") == 160)
        let ours = [Self.ready("a", "comcl-embedding-worker 1"), Self.ready("b", "comcl-embedding-worker 1")]
        let mixed = [Self.ready("a", "comcl-embedding-worker 1"), Self.ready("b", "comcl-pytorch-worker 1 (torch 2.13.0, cuda)")]
        #expect(speeds.shares(for: ours, balance: .auto) == nil)
        #expect(speeds.shares(for: ours, balance: .speed) == [40, 160])
        #expect(speeds.shares(for: mixed, balance: .auto) == [40, 160])
        #expect(speeds.shares(for: mixed, balance: .even) == nil)
        // A worker that joined counts as the mean of those measured until it is.
        #expect(speeds.shares(for: mixed + [Self.ready("c", "x")], balance: .auto) == [40, 160, 100])
    }

    @Test func aSlowerStepMovesTheRateByItsWeight() {
        var speeds = WorkerSpeeds()
        speeds.forward("a", rows: 100, seconds: 1)
        speeds.backward("a", seconds: 1)
        speeds.forward("a", rows: 100, seconds: 2)
        speeds.backward("a", seconds: 2)
        // 50 rows/s, then a step at 25: 0.7 x 50 + 0.3 x 25.
        #expect(abs(speeds.rate(of: "a")! - 42.5) < 1e-12)
        // A backward without its forward (a retried step) is not a measurement.
        speeds.backward("a", seconds: 100)
        #expect(abs(speeds.rate(of: "a")! - 42.5) < 1e-12)
    }
}
