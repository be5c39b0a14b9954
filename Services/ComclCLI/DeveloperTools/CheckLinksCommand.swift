import ArgumentParser
import Basics
import Coordination
import Foundation
import Launcher
import Transport
import Wire

/// A check of the wiring (the main job is `comcl demo`): it starts all five services as local
/// processes on loopback, waits until every worker has said Ready and heartbeated over ZeroMQ,
/// then stops them all with SIGTERM and checks that each one said goodbye and exited cleanly.
struct CheckLinksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-links",
        abstract: "Start all five services locally, check Ready/heartbeat over ZeroMQ, stop them cleanly.",
        discussion: "A check of the services and their links, not training: comcl demo runs the whole method, comcl train pre-trains.")

    @Option(help: "First of five loopback TCP ports (control, detector-cropper, augmenter, embedding-worker, evaluator).")
    var basePort = 5570

    @Option(help: "Augmenter replicas (the service users scale out).")
    var augmenters = 2

    @Option(help: "Heartbeats each worker must deliver before the run counts as healthy.")
    var heartbeats = 3

    @Option(help: "Heartbeat period in seconds (zguide Paranoid Pirate: 1 s).")
    var heartbeat = 1.0

    @Option(help: "Give up after this many seconds without a healthy set of workers.")
    var timeout = 60.0

    @Option(help: "Directory for this run's logs (default: runs/<UTC time>).")
    var runDirectory: String?

    func validate() throws {
        guard (1024...65530).contains(basePort) else { throw ValidationError("--base-port must be in 1024...65530") }
        guard augmenters >= 1 else { throw ValidationError("--augmenters must be at least 1") }
    }

    func run() throws {
        try PortCheck.requireFree(basePort: basePort)
        let directory = URL(fileURLWithPath: runDirectory ?? "runs/\(Self.timestamp())")
        let cluster = try LocalCluster(logDirectory: directory.appendingPathComponent("logs"))
        do {
            try runChecked(cluster)
            print("logs: \(cluster.logDirectory.path)")
        } catch {
            cluster.killAll()
            print("FAILED: \(error)\nlogs: \(cluster.logDirectory.path)")
            throw ExitCode.failure
        }
    }

    private func runChecked(_ cluster: LocalCluster) throws {
        let links = Links.loopback(basePort: basePort)
        let beat = ["--heartbeat", "\(heartbeat)"]
        print("[1/4] coordinator on \(links.control) (workers: ports \(basePort + 1)-\(basePort + 4))")
        let coordinator = try cluster.start("coordinator", executable: "comcl-coordinator", arguments: ["--control", links.control] + beat)

        var workers: [(Role, String, String)] = [
            (.detectorCropper, "detector-cropper", "comcl-detector-cropper"),
            (.embeddingWorker, "embedding-worker", "comcl-embedding-worker"),
            (.evaluator, "evaluator", "comcl-evaluator"),
        ]
        workers += (1...augmenters).map { (.augmenter, "augmenter-\($0)", "comcl-augmenter") }
        print("[2/4] \(workers.count) workers: \(workers.map(\.1).joined(separator: ", "))")
        // The cropper reads images under a data root and caches detections in the run folder.
        let runFolder = cluster.logDirectory.deletingLastPathComponent().path
        let extra: [Role: [String]] = [.detectorCropper: ["--data-root", runFolder, "--cache", "\(runFolder)/detection-cache"]]
        var started: [LocalCluster.Member] = []
        for (role, name, executable) in workers {
            started.append(
                try cluster.start(
                    name, executable: executable,
                    arguments: ["--coordinator", links.workers[role]!, "--worker-id", name] + beat + (extra[role] ?? [])))
        }

        print("[3/4] waiting for Ready and \(heartbeats) heartbeats from each worker")
        let context = ZMQContext()
        let control = try ControlClient(context: context, endpoint: links.control)
        let deadline = Date().addingTimeInterval(timeout)
        var last: Status?
        var reported = ""
        while true {
            if let (member, tail) = cluster.crashed() {
                throw Problem("\(member.name) exited with status \(member.process.terminationStatus):\n\(tail)")
            }
            if let status = try control.status(timeout: 1) {
                last = status
                let healthy = status.peers.filter { $0.heartbeats >= UInt64(heartbeats) }.count
                let line = "      \(status.peers.count)/\(workers.count) ready, \(healthy) with \(heartbeats)+ heartbeats"
                if line != reported { print(line) }
                reported = line
                if healthy == workers.count { break }
            }
            guard Date() < deadline else {
                throw Problem("only \(last?.peers.count ?? 0) of \(workers.count) workers healthy after \(Int(timeout)) s")
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        print(last?.peerTable ?? "")

        print("[4/4] stopping: SIGTERM to each worker, then to the coordinator")
        var problems: [String] = []
        for member in started {
            let status = cluster.stop(member, timeout: 10)
            print("      \(member.name.padding(toLength: 18, withPad: " ", startingAt: 0)) exit \(status.map(String.init) ?? "killed")")
            if status != 0 { problems.append("\(member.name) did not exit cleanly") }
        }
        let after = try control.status(timeout: 2)
        if let left = after?.peers, !left.isEmpty {
            problems.append("coordinator still lists \(left.map(\.workerID)) after their goodbyes")
        } else {
            print("      coordinator received every goodbye (0 workers connected)")
        }
        let status = cluster.stop(coordinator, timeout: 10)
        print("      \("coordinator".padding(toLength: 18, withPad: " ", startingAt: 0)) exit \(status.map(String.init) ?? "killed")")
        if status != 0 { problems.append("coordinator did not exit cleanly") }
        guard problems.isEmpty else { throw Problem(problems.joined(separator: "; ")) }
        print("OK: all 5 services exchanged Ready/heartbeat over ZeroMQ and stopped cleanly.")
        print("    (The CoMCL training pipeline itself is not built yet: this run checks the wiring.)")
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}
