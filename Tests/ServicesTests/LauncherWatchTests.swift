import Foundation
import Testing
import TestSupport

/// `comcl train` killed outright (SIGKILL: it cannot stop anything) must not leave its services
/// training on as orphans: each one gets SIGTERM from the kernel when its launcher dies
/// (LauncherWatch) and stops as it would on Ctrl-C.
@Suite(.serialized) struct LauncherWatchTests {
    /// A process's state letter and parent (/proc/PID/stat, after the name in parentheses), or nil
    /// when it is gone.
    static func stat(_ pid: Int32) -> (state: Substring, parent: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else {
            return nil
        }
        let fields = text[text.index(close, offsetBy: 2)...].split(separator: " ")
        guard fields.count > 1, let parent = Int32(fields[1]) else { return nil }
        return (fields[0], parent)
    }

    /// Running, not a zombie (reparented zombies are never reaped here).
    static func alive(_ pid: Int32) -> Bool { stat(pid).map { $0.state != "Z" } ?? false }

    /// Live children of `pid`.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { alive($0) && stat($0)?.parent == pid }
    }

    @Test func servicesStopWhenTheirLauncherIsKilled() throws {
        let run = TrainingIntegrationTests.folder("orphans")
        defer { try? FileManager.default.removeItem(at: run) }
        let train = try TrainingIntegrationTests.train(run, port: 6545, steps: 500)
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let deadline = Date().addingTimeInterval(120)
        while ((try? String(contentsOf: metrics, encoding: .utf8)) ?? "").isEmpty, Date() < deadline, train.process.isRunning {
            usleep(100_000)
        }
        let services = Self.children(of: train.process.processIdentifier)
        try #require(
            services.count == 6, "coordinator, cropper, 2 augmenters, 2 embedding workers: \(services)\n\(train.output.suffix(2000))")

        train.signal(SIGKILL)
        _ = train.wait(timeout: 10)
        let stopBy = Date().addingTimeInterval(30)
        while services.contains(where: Self.alive), Date() < stopBy { usleep(100_000) }
        #expect(!services.contains(where: Self.alive), "still running: \(services.filter(Self.alive))")
        for pid in services where Self.alive(pid) { kill(pid, SIGKILL) }
        // They stopped the graceful way: the coordinator asked its workers to stop.
        let log = (try? String(contentsOf: run.appendingPathComponent("logs/coordinator.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("stopping: asking"), "\(log.suffix(1500))")
    }
}
