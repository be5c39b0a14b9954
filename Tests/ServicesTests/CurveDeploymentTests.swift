import Foundation
import Testing
import TestSupport

/// CurveZMQ as a deployment uses it, with real processes: keys from `comcl keys`, a coordinator
/// admitting the listed client keys only, a listed worker joining, an unlisted one refused and
/// logged, `comcl status` with a listed key.
@Suite(.serialized) struct CurveDeploymentTests {
    let folder: URL = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-curve-\(UUID().uuidString)")

    @Test func onlyListedClientsGetIn() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let keys = folder.appendingPathComponent("keys")
        let (made, log) = try ChildProcess.run("comcl", ["keys", "--out", keys.path, "--clients", "2"])
        try #require(made == 0, "\(log)")
        let serverKey = try String(contentsOf: keys.appendingPathComponent("coordinator.key"), encoding: .utf8).split(separator: "\n")[0]
        let outsider = folder.appendingPathComponent("outsider.key").path
        try #require(try ChildProcess.run("comcl", ["keygen", outsider]).0 == 0)
        #expect(try ChildProcess.run("comcl", ["keys", "--out", keys.path, "--clients", "2"]).1.contains("never overwritten"))

        let coordinator = try ChildProcess(
            "comcl-coordinator",
            [
                "--control", "tcp://127.0.0.1:6450", "--curve-key-file", keys.appendingPathComponent("coordinator.key").path,
                "--curve-clients", keys.appendingPathComponent("clients.txt").path,
            ])
        defer { coordinator.signal(SIGTERM); _ = coordinator.wait(timeout: 20) }
        func augmenter(_ id: String, keyFile: String) throws -> ChildProcess {
            try ChildProcess(
                "comcl-augmenter",
                [
                    "--coordinator", "tcp://127.0.0.1:6452", "--worker-id", id, "--curve-server-key", String(serverKey), "--curve-key-file",
                    keyFile,
                ], name: id)
        }
        let member = try augmenter("listed", keyFile: keys.appendingPathComponent("client-1.key").path)
        let stranger = try augmenter("unlisted", keyFile: outsider)
        defer { for worker in [member, stranger] { worker.signal(SIGTERM); _ = worker.wait(timeout: 20) } }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline,
            !(coordinator.output.contains("joined: augmenter listed") && coordinator.output.contains("refused a CURVE client"))
        {
            usleep(200_000)
        }
        #expect(coordinator.output.contains("joined: augmenter listed"), "\(coordinator.output)")
        #expect(
            coordinator.output.contains("refused a CURVE client") && coordinator.output.contains("is not listed"), "\(coordinator.output)")
        #expect(!coordinator.output.contains("joined: augmenter unlisted"))

        let (status, table) = try ChildProcess.run(
            "comcl",
            [
                "status", "--control", "tcp://127.0.0.1:6450", "--curve-server-key", String(serverKey),
                "--curve-key-file", keys.appendingPathComponent("client-2.key").path,
            ])
        #expect(status == 0 && table.contains("listed") && !table.contains("unlisted"), "\(table)")
        let (refused, _) = try ChildProcess.run(
            "comcl",
            [
                "status", "--control", "tcp://127.0.0.1:6450", "--curve-server-key", String(serverKey), "--curve-key-file", outsider,
                "--timeout", "1",
            ])
        #expect(refused != 0, "an unlisted control client hears nothing")
    }

    /// compose.curve.yaml's way: no CURVE flag anywhere, the settings in COMCL_CURVE_* only. A
    /// listed worker joins and a listed status client gets its table; a status client whose key
    /// file names an unlisted key hears nothing.
    @Test func theEnvironmentTurnsCurveOnWithoutFlags() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let keys = folder.appendingPathComponent("env-keys")
        try #require(try ChildProcess.run("comcl", ["keys", "--out", keys.path, "--names", "augmenter,status"]).0 == 0)
        let serverKey = String(
            try String(contentsOf: keys.appendingPathComponent("coordinator.key"), encoding: .utf8).split(separator: "\n")[0])
        let outsider = folder.appendingPathComponent("outsider.key").path
        try #require(try ChildProcess.run("comcl", ["keygen", outsider]).0 == 0)
        let key = { (name: String) in keys.appendingPathComponent("\(name).key").path }
        let products = ChildProcess.productsDirectory

        let coordinator = try ChildProcess(
            executable: products.appendingPathComponent("comcl-coordinator"), ["--control", "tcp://127.0.0.1:6550"], name: "coordinator",
            environment: [
                "COMCL_CURVE_COORDINATOR_KEY_FILE": key("coordinator"),
                "COMCL_CURVE_CLIENTS": keys.appendingPathComponent("clients.txt").path,
            ])
        defer { coordinator.signal(SIGTERM); _ = coordinator.wait(timeout: 20) }
        let augmenter = try ChildProcess(
            executable: products.appendingPathComponent("comcl-augmenter"),
            ["--coordinator", "tcp://127.0.0.1:6552", "--worker-id", "from-env"], name: "augmenter",
            environment: ["COMCL_CURVE_SERVER_KEY": serverKey, "COMCL_CURVE_KEY_FILE": key("augmenter")])
        defer { augmenter.signal(SIGTERM); _ = augmenter.wait(timeout: 20) }

        /// `comcl status` with the CURVE settings in its environment only: its exit status and output.
        func status(keyFile: String) throws -> (Int32?, String) {
            let child = try ChildProcess(
                executable: products.appendingPathComponent("comcl"), ["status", "--control", "tcp://127.0.0.1:6550", "--timeout", "2"],
                name: "status",
                environment: ["COMCL_CURVE_SERVER_KEY": serverKey, "COMCL_CURVE_KEY_FILE": keyFile])
            return (child.wait(timeout: 20), child.output)
        }
        let deadline = Date().addingTimeInterval(30)
        var table = ""
        while !table.contains("from-env"), Date() < deadline { table = try status(keyFile: key("status")).1 }
        #expect(
            table.contains("from-env"),
            "the worker joined and status answered, both over CURVE from the environment: \(table)\n\(coordinator.output.suffix(1500))")
        #expect(coordinator.output.contains("CurveZMQ on") && coordinator.output.contains("2 listed keys"))
        #expect(try status(keyFile: outsider).0 != 0, "an unlisted key from the environment hears nothing")
        #expect(coordinator.output.contains("refused a CURVE client"))
    }

    @Test func aBadClientListStopsTheCoordinatorWithItsLine() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let list = folder.appendingPathComponent("clients.txt")
        try Data("# clients\ntoo-short-to-be-a-key worker-1\n".utf8).write(to: list)
        let (code, log) = try ChildProcess.run(
            "comcl-coordinator",
            [
                "--control", "tcp://127.0.0.1:6460", "--curve-key-file", folder.appendingPathComponent("c.key").path, "--curve-clients",
                list.path,
            ])
        #expect(code != 0 && log.contains("clients.txt:2") && log.contains("not a 40-character Z85 public key"), "\(log)")
    }

    /// One pair per compose service (its replicas share it), named for the service.
    @Test func clientKeysCanBeNamed() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let keys = folder.appendingPathComponent("named")
        let (made, log) = try ChildProcess.run("comcl", ["keys", "--out", keys.path, "--names", "augmenter,status"])
        try #require(made == 0, "\(log)")
        for name in ["coordinator", "augmenter", "status"] {
            #expect(FileManager.default.fileExists(atPath: keys.appendingPathComponent("\(name).key").path))
        }
        let list = try String(contentsOf: keys.appendingPathComponent("clients.txt"), encoding: .utf8).split(separator: "\n").filter {
            !$0.hasPrefix("#")
        }
        #expect(list.map { $0.split(separator: " ").last! } == ["augmenter", "status"])
        for bad in ["coordinator", "a,a", "../x"] {
            let (code, refusal) = try ChildProcess.run(
                "comcl", ["keys", "--out", folder.appendingPathComponent("bad").path, "--names", bad])
            #expect(code != 0 && refusal.contains("--names"), "\(bad): \(refusal)")
        }
    }
}
