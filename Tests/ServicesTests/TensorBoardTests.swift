import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real training run watched with the usual tools: TensorBoard's own reader (EventAccumulator,
/// from the PyPI package in scripts/torch-venv.sh) opens the event file and finds every scalar of
/// every step; metrics.csv has a row per step under its header; an HTTP client scrapes the
/// coordinator's Prometheus /metrics while the run trains.
@Suite(.serialized) struct TensorBoardTests {
    static let steps = 4

    @Test(.enabled(if: TorchPython.available, "needs TensorBoard: scripts/torch-venv.sh (scripts/test.sh runs it)"))
    func tensorBoardReadsEveryScalarOfEveryStep() throws {
        let run = TrainingIntegrationTests.folder("tensorboard")
        defer { try? FileManager.default.removeItem(at: run) }
        let child = try TrainingIntegrationTests.train(run, port: 6820, steps: Self.steps)
        try #require(child.wait(timeout: 400) == 0, "\(child.output)")
        let script = """
            import json, sys
            from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
            a = EventAccumulator(sys.argv[1]); a.Reload()
            print(json.dumps({t: [[e.step, e.value] for e in a.Scalars(t)] for t in a.Tags()["scalars"]}))
            """
        let (code, output) = try TorchPython.run(["-c", script, run.appendingPathComponent("tensorboard").path])
        try #require(code == 0, "\(output)")
        let json = try #require(output.split(separator: "\n").last.map { Data($0.utf8) })
        let scalars = try JSONSerialization.jsonObject(with: json) as! [String: [[Double]]]
        for tag in [
            "loss/total", "loss/L-L~", "hard_negatives/L-H", "anchors/L~-H~", "cosine/positive", "cosine/other", "learning_rate",
            "patches_per_second", "busy/workers", "busy/coordinator",
        ] {
            #expect(scalars[tag]?.map { Int($0[0]) } == Array(1...Self.steps), "\(tag): \(scalars[tag] ?? [])")
        }
        // The event file's values are the metrics' (float32).
        let losses = try TrainingIntegrationTests.losses(run)
        for (step, loss) in losses { #expect(abs(scalars["loss/total"]![step][1] - loss) <= 1e-6 * max(1, abs(loss))) }
        let csv = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == Self.steps + 1 && csv[0].hasPrefix("step,wall_time,loss/total,"), "\(csv.first ?? "")")
    }

    /// One GET with Foundation's HTTP client: status and body, nil if nothing answered.
    static func get(_ url: String) -> (status: Int, body: String)? {
        let answer = ManagedResult()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: URL(string: url)!) { data, response, _ in
            if let response = response as? HTTPURLResponse {
                answer.set((response.statusCode, String(decoding: data ?? Data(), as: UTF8.self)))
            }
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 5)
        return answer.get()
    }

    final class ManagedResult: @unchecked Sendable {
        private let lock = NSLock()
        private var value: (Int, String)?
        func set(_ v: (Int, String)) { lock.withLock { value = v } }
        func get() -> (Int, String)? { lock.withLock { value } }
    }

    @Test func prometheusScrapesTheCoordinatorWhileTheRunTrains() throws {
        let run = TrainingIntegrationTests.folder("prometheus")
        defer { try? FileManager.default.removeItem(at: run) }
        let port = 6849
        let child = try TrainingIntegrationTests.train(run, port: 6840, steps: 12, extra: ["--metrics-port", "\(port)"])
        var scraped: (status: Int, body: String)?
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, child.process.isRunning {
            if let answer = Self.get("http://127.0.0.1:\(port)/metrics"), answer.body.contains("comcl_step ") {
                scraped = answer
                break
            }
            usleep(200_000)
        }
        let wrongPath = Self.get("http://127.0.0.1:\(port)/other")
        // The same run's status as JSON, for scripts.
        let (statusCode, statusOutput) = try ChildProcess.run("comcl", ["status", "--json", "--control", "tcp://127.0.0.1:6840"])
        try #require(child.wait(timeout: 400) == 0, "\(child.output)")
        let (status, body) = try #require(scraped, "no scrape answered during the run")
        #expect(status == 200)
        for line in [
            "# TYPE comcl_loss gauge", "comcl_pairing_loss{pairing=\"L-H\"}", "comcl_cosine{pair=\"positive\"}", "comcl_learning_rate ",
            "comcl_worker_busy_ratio ", "comcl_faults_total{kind=\"workers_left\"} 0", "comcl_steps 12",
        ] {
            #expect(body.contains(line), "no \(line) in\n\(body)")
        }
        #expect(wrongPath?.status == 404)
        if statusCode == 0, let line = statusOutput.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        {
            let peers = object["peers"] as? [[String: Any]] ?? []
            #expect(peers.filter { $0["role"] as? String == "embedding-worker" }.count == 2, "\(object)")
            #expect((object["detail"] as? String)?.contains("step") == true, "\(object)")
        } else {
            // The run may have ended first; the status command then says so in one sentence.
            #expect(statusOutput.contains("no answer from tcp://127.0.0.1:6840"), "\(statusOutput)")
        }
    }
}
