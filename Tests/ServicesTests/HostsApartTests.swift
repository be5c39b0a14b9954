import Foundation
import Testing
import TestSupport

/// Services on separate hosts: the coordinator in one network namespace, workers in another,
/// joined by a veth pair and talking TCP. With CurveZMQ on, a listed worker joins, an unlisted
/// one is refused and logged, and a capture of the link holds none of the plaintext that
/// crosses it (the worker's id and software string in Ready); the same run without CURVE shows
/// that plaintext, so the capture can tell. Needs root, iproute2 and tcpdump (scripts/install-deps.sh --test).
@Suite(.serialized) struct HostsApartTests {
    static let ip = URL(fileURLWithPath: "/usr/sbin/ip")
    let tag = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-netns-\(UUID().uuidString)")

    var hub: String { "cc\(tag)" }
    var edge: String { "cw\(tag)" }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let child = try ChildProcess(executable: ip, arguments, name: "ip")
        let status = child.wait(timeout: 20)
        guard status == 0 else { throw Failure("ip \(arguments.joined(separator: " ")): \(child.output)") }
        return child.output
    }

    struct Failure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    /// Two namespaces, a veth pair between them: the hub 10.77.0.1, the edge 10.77.0.2.
    func network() throws {
        for ns in [hub, edge] { try Self.run(["netns", "add", ns]) }
        try Self.run(["link", "add", "v\(hub)", "type", "veth", "peer", "name", "v\(edge)"])
        for (ns, address) in [(hub, "10.77.0.1/24"), (edge, "10.77.0.2/24")] {
            try Self.run(["link", "set", "v\(ns)", "netns", ns])
            try Self.run(["-n", ns, "addr", "add", address, "dev", "v\(ns)"])
            try Self.run(["-n", ns, "link", "set", "v\(ns)", "up"])
            try Self.run(["-n", ns, "link", "set", "lo", "up"])
        }
    }

    func tearDown() {
        for ns in [hub, edge] { _ = try? Self.run(["netns", "del", ns]) }
        try? FileManager.default.removeItem(at: folder)
    }

    /// A product run inside a namespace.
    func inside(_ ns: String, _ product: String, _ arguments: [String], name: String) throws -> ChildProcess {
        try ChildProcess(
            executable: Self.ip, ["netns", "exec", ns, ChildProcess.productsDirectory.appendingPathComponent(product).path] + arguments,
            name: name)
    }

    /// One session: coordinator on the hub, two augmenters on the edge (one listed, one not, when
    /// CURVE is on), the link captured. Returns the coordinator's log and the capture's bytes.
    func session(curve: Bool, workerID: String) throws -> (log: String, capture: Data) {
        let keys = folder.appendingPathComponent("keys")
        let capture = folder.appendingPathComponent("link-\(curve).pcap")
        var serverArguments = ["--control", "tcp://10.77.0.1:6470"]
        var workerArguments = ["--coordinator", "tcp://10.77.0.1:6472"]
        if curve {
            let serverKey = try String(contentsOf: keys.appendingPathComponent("coordinator.key"), encoding: .utf8).split(separator: "\n")[
                0]
            serverArguments += [
                "--curve-key-file", keys.appendingPathComponent("coordinator.key").path, "--curve-clients",
                keys.appendingPathComponent("clients.txt").path,
            ]
            workerArguments += ["--curve-server-key", String(serverKey)]
        }
        let tcpdump = try ChildProcess(
            executable: Self.ip, ["netns", "exec", hub, "tcpdump", "-i", "v\(hub)", "-U", "-w", capture.path, "tcp"], name: "tcpdump")
        usleep(500_000)
        let coordinator = try inside(hub, "comcl-coordinator", serverArguments, name: "coordinator")
        var workers = [
            try inside(
                edge, "comcl-augmenter",
                workerArguments + ["--worker-id", workerID]
                    + (curve ? ["--curve-key-file", keys.appendingPathComponent("client-1.key").path] : []), name: workerID)
        ]
        if curve {
            workers.append(
                try inside(
                    edge, "comcl-augmenter",
                    workerArguments + ["--worker-id", "stranger", "--curve-key-file", folder.appendingPathComponent("outsider.key").path],
                    name: "stranger"))
        }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline,
            !coordinator.output.contains("joined: augmenter \(workerID)")
                || (curve && !coordinator.output.contains("refused a CURVE client"))
        {
            usleep(200_000)
        }
        usleep(1_500_000)  // a few heartbeats cross the link
        for worker in workers { worker.signal(SIGTERM); _ = worker.wait(timeout: 20) }
        coordinator.signal(SIGTERM)
        _ = coordinator.wait(timeout: 20)
        tcpdump.signal(SIGINT)
        _ = tcpdump.wait(timeout: 10)
        return (coordinator.output, (try? Data(contentsOf: capture)) ?? Data())
    }

    @Test func curveAcrossNamespacesAdmitsListedKeysAndHidesTraffic() throws {
        try #require(getuid() == 0, "network namespaces need root")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump"), "tcpdump missing: scripts/install-deps.sh --test")
        defer { tearDown() }
        try network()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try #require(try ChildProcess.run("comcl", ["keys", "--out", folder.appendingPathComponent("keys").path, "--clients", "1"]).0 == 0)
        try #require(try ChildProcess.run("comcl", ["keygen", folder.appendingPathComponent("outsider.key").path]).0 == 0)

        let secret = "curve-worker-\(tag)"
        let (log, capture) = try session(curve: true, workerID: secret)
        #expect(log.contains("joined: augmenter \(secret)"), "the listed worker joins across the link: \(log)")
        #expect(
            log.contains("refused a CURVE client from 10.77.0.2") && log.contains("is not listed"),
            "the stranger is refused and logged: \(log)")
        #expect(!log.contains("joined: augmenter stranger"))
        #expect(capture.count > 1000, "the capture holds the session's traffic (\(capture.count) bytes)")
        #expect(
            capture.range(of: Data(secret.utf8)) == nil && capture.range(of: Data("comcl-augmenter".utf8)) == nil,
            "plaintext crossed the link under CURVE")

        // Control: the same session in the clear shows the id on the wire, so the check above can fail.
        let plain = "plain-worker-\(tag)"
        let (plainLog, plainCapture) = try session(curve: false, workerID: plain)
        #expect(plainLog.contains("joined: augmenter \(plain)"), "\(plainLog)")
        #expect(plainCapture.range(of: Data(plain.utf8)) != nil, "without CURVE the worker id is visible on the link")
    }
}
