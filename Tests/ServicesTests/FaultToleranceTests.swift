import Encoder
import Foundation
import Testing
import TestSupport

/// Issue 8's fault test, with real processes on loopback: a run whose cropper, augmenter and
/// embedding worker are each killed with SIGKILL while holding work, and whose coordinator is
/// killed and restarted with --resume (the workers stay up and re-announce), against the same
/// seed and config run undisturbed. The metrics must show every step done, each step's batch
/// digest (its items, their attempts and their views, in batch order) equal to the undisturbed
/// run's, and the faults seen; the final weights must be bitwise equal.
///
/// CI runs one round (10 steps). `scripts/faults.sh` sets COMCL_FAULT_ROUNDS for the long form:
/// every round kills one of each and the coordinator again, and starts a replacement for each.
@Suite(.serialized) struct FaultToleranceTests {
    static let rounds = Int(ProcessInfo.processInfo.environment["COMCL_FAULT_ROUNDS"] ?? "") ?? 1
    static let stepsPerRound = 10

    /// The disturbed run's processes; replacements are numbered on per role (augmenter-3...).
    final class Fleet {
        let data = TrainingIntegrationTests.data
        let run: URL
        let config: URL
        let port: Int
        var coordinator: ChildProcess!
        var members: [(role: String, id: String, child: ChildProcess)] = []
        var started: [String: Int] = [:]

        init(run: URL, config: URL, port: Int) throws {
            (self.run, self.config, self.port) = (run, config, port)
            coordinator = try startCoordinator(resume: false)
            for role in ["cropper", "augmenter", "embedding-worker", "embedding-worker", "cropper", "augmenter"] { try start(role) }
        }

        func startCoordinator(resume: Bool) throws -> ChildProcess {
            try ChildProcess(
                "comcl-coordinator",
                [
                    "--control", "tcp://127.0.0.1:\(port)", "--run-folder", run.path, "--training-config", config.path,
                    "--labels", data.appendingPathComponent("labels16.csv").path, "--format", "eyeq", "--min-workers", "2",
                ] + (resume ? ["--resume"] : []), name: "coordinator")
        }

        func start(_ role: String) throws {
            started[role, default: 0] += 1
            let id = "\(role)-\(started[role]!)"
            let link = { (offset: Int) in ["--coordinator", "tcp://127.0.0.1:\(self.port + offset)", "--worker-id", id] }
            let child: ChildProcess
            switch role {
            case "cropper":
                child = try ChildProcess(
                    "comcl-detector-cropper",
                    link(1) + [
                        "--data-root", data.appendingPathComponent("images").path, "--cache", run.appendingPathComponent("detections").path,
                    ], name: id)
            case "augmenter": child = try ChildProcess("comcl-augmenter", link(2), name: id)
            default: child = try ChildProcess("comcl-embedding-worker", link(3) + ["--threads", "1"], name: id)
            }
            members.append((role, id, child))
        }

        /// Items the coordinator has handed `id` and not had back, or nil if it does not list it.
        func inFlight(_ id: String) -> Int? {
            guard
                case let (0?, table) =
                    (try? ChildProcess.run("comcl", ["status", "--control", "tcp://127.0.0.1:\(port)", "--timeout", "2"])) ?? (nil, "")
            else { return nil }
            for line in table.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count > 3, fields[1] == id { return Int(fields[2]) }
            }
            return nil
        }

        /// Kills the oldest `role` while it holds work: frozen with SIGSTOP (so it cannot answer),
        /// killed with SIGKILL once the coordinator lists an item in flight to it, and replaced.
        /// A frozen worker dropped before any work came (the pipeline was idle for 3 s) is thawed,
        /// re-announces, and is frozen again.
        func killHoldingWork(_ role: String) throws -> String {
            let (_, id, child) = members.first { $0.role == role && $0.child.process.isRunning }!
            let deadline = Date().addingTimeInterval(120)
            child.signal(SIGSTOP)
            while Date() < deadline {
                switch inFlight(id) {
                case let items? where items > 0:
                    child.signal(SIGKILL)
                    _ = child.wait(timeout: 10)
                    try start(role)
                    return id
                case nil:
                    child.signal(SIGCONT)
                    usleep(1_500_000)
                    child.signal(SIGSTOP)
                default: usleep(100_000)
                }
            }
            child.signal(SIGCONT)
            throw TestFailure("\(id) got no work within 120 s")
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    struct Record {
        var step: Int
        var items: String
        var attempts: Int
        var faults: [String: Any]
    }

    static func records(_ run: URL) -> [Record] {
        let text = (try? String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Record(
                step: record["step"] as! Int, items: record["items"] as! String, attempts: record["attempts"] as! Int,
                faults: record["faults"] as! [String: Any])
        }
    }

    /// Waits until steps 1...count are recorded (a resumed coordinator records some twice).
    static func waitForSteps(_ count: Int, _ run: URL, while coordinator: ChildProcess) throws {
        let deadline = Date().addingTimeInterval(300)
        while (records(run).map(\.step).max() ?? -1) + 1 < count {
            guard coordinator.process.isRunning, Date() < deadline else {
                throw TestFailure("step \(count) not reached:\n\(coordinator.output.suffix(2000))")
            }
            usleep(50_000)
        }
    }

    @Test func workersKilledMidWorkAndCoordinatorResumedChangeNothing() throws {
        let steps = Self.rounds * Self.stepsPerRound
        let (whole, broken) = (TrainingIntegrationTests.folder("undisturbed"), TrainingIntegrationTests.folder("faults"))
        defer { for run in [whole, broken] { try? FileManager.default.removeItem(at: run) } }
        let reference = try TrainingIntegrationTests.train(whole, port: 6500, steps: steps)
        try #require(reference.wait(timeout: 120 + 30 * Double(steps)) == 0, "\(reference.output)")

        let fleet = try Fleet(run: broken, config: whole.appendingPathComponent("config.json"), port: 6510)
        var killed: [String] = []
        for round in 0..<Self.rounds {
            let base = round * Self.stepsPerRound
            try Self.waitForSteps(base + 1, broken, while: fleet.coordinator)
            killed.append(try fleet.killHoldingWork("cropper"))
            try Self.waitForSteps(base + 3, broken, while: fleet.coordinator)
            killed.append(try fleet.killHoldingWork("augmenter"))
            try Self.waitForSteps(base + 5, broken, while: fleet.coordinator)
            killed.append(try fleet.killHoldingWork("embedding-worker"))
            // After step base+7 is recorded; the last checkpoint is step base+6's (every 3).
            try Self.waitForSteps(base + 7, broken, while: fleet.coordinator)
            fleet.coordinator.signal(SIGKILL)
            _ = fleet.coordinator.wait(timeout: 10)
            killed.append("coordinator")
            fleet.coordinator = try fleet.startCoordinator(resume: true)
        }
        try #require(fleet.coordinator.wait(timeout: 60 + 30 * Double(steps)) == 0, "\(fleet.coordinator.output.suffix(3000))")
        for member in fleet.members where !killed.contains(member.id) {
            #expect(member.child.wait(timeout: 30) == 0, "\(member.id) did not stop cleanly: \(member.child.output.suffix(1000))")
        }

        // Every step done; every record of a step (a resumed coordinator redoes the steps after
        // its checkpoint) has the undisturbed run's batch: same items, attempts and views.
        let expected = Dictionary(uniqueKeysWithValues: Self.records(whole).map { ($0.step, $0.items) })
        let records = Self.records(broken)
        #expect(expected.count == steps && Set(expected.values).count == steps, "one distinct digest per step")
        #expect(Set(records.map(\.step)) == Set(0..<steps), "steps recorded: \(records.map(\.step))")
        for record in records {
            #expect(
                record.items == expected[record.step],
                "step \(record.step + 1): batch digest \(record.items), undisturbed \(expected[record.step] ?? "none")")
        }

        // The faults happened and were absorbed: each killed worker left with items (re-issued,
        // or for the embedding worker a step redone on the workers left).
        var left: [String: Int] = [:]
        var (reissued, remade, recut) = (0, 0, 0)
        for record in records {
            for (role, count) in record.faults["workers_left"] as? [String: Int] ?? [:] { left[role, default: 0] += count }
            reissued += record.faults["reissued"] as? Int ?? 0
            remade += record.faults["views_remade"] as? Int ?? 0
            recut += record.faults["patches_recut"] as? Int ?? 0
        }
        let redone = records.filter { $0.attempts > 1 }.count
        print(
            "fault test: \(steps) steps, killed \(killed.joined(separator: ", ")); left \(left), re-issued \(reissued), views remade \(remade), patches cut again \(recut), steps redone \(redone), records \(records.count)"
        )
        for role in ["detector-cropper", "augmenter", "embedding-worker"] {
            #expect(left[role, default: 0] >= Self.rounds, "\(role): \(left)")
        }
        #expect(reissued >= 2 * Self.rounds)
        // A killed augmenter takes the views it kept for the steps ahead: they were made again.
        #expect(remade >= Self.rounds, "views remade: \(remade)")
        #expect(redone >= Self.rounds)

        let (a, b) = (
            try TrainingIntegrationTests.finalWeights(whole, step: steps), try TrainingIntegrationTests.finalWeights(broken, step: steps)
        )
        #expect(a.names == b.names)
        for name in a.names where a.entries[name]!.dtype == .f32 { #expect(try a.floats(name) == b.floats(name), "\(name) differs") }
    }
}
