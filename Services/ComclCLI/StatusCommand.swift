import ArgumentParser
import Basics
import Foundation
import ServiceCommandLine
import ServiceKit
import Transport

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print the workers connected to a running coordinator (a table, or --json).")

    @Option(help: "The coordinator's control link.")
    var control = "tcp://127.0.0.1:5570"

    @Option(help: "Seconds to wait for an answer.")
    var timeout = 3.0

    @Flag(help: "Print one JSON object (for scripts and monitoring) instead of the table.")
    var json = false

    @Flag(
        help:
            "A probe: print nothing, exit 0 when the coordinator lists a worker running on this host (its id is <service>@<hostname>:<pid>), 1 otherwise. What the containers' health checks and Kubernetes' liveness probes run."
    )
    var listsThisHost = false

    @OptionGroup var curve: CurveClientOptions

    func run() throws {
        let context = ZMQContext()
        guard let status = try ControlClient(context: context, endpoint: control, curve: try curve.role()).status(timeout: timeout) else {
            throw Problem("no answer from \(control) within \(timeout) s: is the coordinator running?")
        }
        if listsThisHost {
            let host = "@\(ProcessInfo.processInfo.hostName):"
            guard status.peers.contains(where: { $0.workerID.contains(host) }) else {
                throw Problem("\(control) lists no worker on this host (\(ProcessInfo.processInfo.hostName))")
            }
            return
        }
        guard json else {
            print("\(status.workerID): up \(Int(status.uptimeSeconds)) s; \(status.detail)")
            print(status.peerTable)
            return
        }
        let peers = status.peers.map { peer -> [String: Any] in
            [
                "role": "\(peer.role)", "worker_id": peer.workerID, "heartbeats": peer.heartbeats, "items_done": peer.itemsDone,
                "in_flight": peer.inFlight, "last_seen_ms_ago": peer.lastSeenMsAgo,
            ]
        }
        let object: [String: Any] = [
            "coordinator": status.workerID, "state": "\(status.state)", "uptime_s": status.uptimeSeconds, "items_done": status.itemsDone,
            "items_failed": status.itemsFailed, "detail": status.detail, "peers": peers,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
    }
}
