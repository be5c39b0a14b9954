import Foundation
import Testing
import TestSupport

/// `comcl train` killed outright (SIGKILL: it cannot stop anything) must not leave its services
/// training on as orphans: each one gets SIGTERM from the kernel when its launcher dies
/// (LauncherWatch) and stops as it would on Ctrl-C.
@Suite(.serialized) struct LauncherWatchTests {
    /// Live children of `pid` (zombies, reparented and never reaped here, count as gone).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return fields.count > 1 && fields[0] != "Z" && Int32(fields[1]) == pid
        }
    }

    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    @Test func servicesStopWhenTheirLauncherIsKilled() throws {
        let run = TrainingIntegrationTests.folder("orphans")
        defer { try? FileManager.default.removeItem(at: run) }
        let train = try TrainingIntegrationTests.train(run, port: 6545, steps: 500)
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let deadline = Date().addingTimeInterval(120)
        while ((try? String(contentsOf: metrics, encoding: .utf8)) ?? "").isEmpty, Date() < deadline, train.process.isRunning { usleep(100_000) }
        let services = Self.children(of: train.process.processIdentifier)
        try #require(services.count == 6, "coordinator, cropper, 2 augmenters, 2 embedding workers: \(services)\n\(train.output.suffix(2000))")

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
