import Foundation
import Launcher
import TestSupport
import Testing

/// The shipped executables, run as a user would.
@Suite(.serialized) struct ServicesTests {
    static let executables = [
        "comcl", "comcl-detector-cropper", "comcl-augmenter", "comcl-embedding-worker", "comcl-coordinator", "comcl-evaluator",
    ]

    @Test(arguments: executables)
    func everyExecutableHasHelp(_ executable: String) throws {
        let (status, output) = try ChildProcess.run(executable, ["--help"])
        #expect(status == 0)
        #expect(output.contains("USAGE: \(executable)"), "\(output)")
    }

    @Test(arguments: ["check-links", "status", "keygen", "image-info", "bench encoder", "bench train"])
    func everySubcommandHasHelp(_ subcommand: String) throws {
        let (status, output) = try ChildProcess.run("comcl", subcommand.split(separator: " ").map(String.init) + ["--help"])
        #expect(status == 0)
        #expect(output.contains("USAGE: comcl \(subcommand)"), "\(output)")
    }

    /// The command tree: user commands, the benchmarks under `bench`, the developer tools apart.
    @Test func theHelpIsATree() throws {
        let (status, output) = try ChildProcess.run("comcl", ["--help"])
        #expect(status == 0)
        let developer = try #require(output.range(of: "DEVELOPER TOOLS SUBCOMMANDS:"), "\(output)")
        for tool in ["check-links", "fuzz", "soak", "loss"] { #expect(output[developer.upperBound...].contains(tool)) }
        #expect(!output.contains("bench-"), "benchmarks sit under `comcl bench`")
        let (_, bench) = try ChildProcess.run("comcl", ["bench", "--help"])
        for name in ["encoder", "train", "cropper", "augmenter", "detector"] { #expect(bench.contains("  \(name) "), "\(bench)") }
    }

    /// Five consecutive free loopback ports (bind to port 0, ask the kernel).
    static func freeBasePort() -> Int {
        for _ in 0..<20 {
            let base = Int.random(in: 20_000...60_000)
            if (base..<(base + 5)).allSatisfy(PortCheck.isFree) { return base }
        }
        return 47_000
    }

    /// The wiring check: all five services exchange Ready/heartbeat and stop cleanly.
    @Test func mainJobStartsAndStopsAllFiveServices() throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: runs) }
        let (status, output) = try ChildProcess.run(
            "comcl", ["check-links", "--base-port", "\(Self.freeBasePort())", "--heartbeat", "0.2", "--run-directory", runs.path],
            timeout: 90)
        #expect(status == 0, "\(output)")
        #expect(output.contains("OK: all 5 services exchanged Ready/heartbeat over ZeroMQ and stopped cleanly."), "\(output)")
        for name in ["coordinator", "detector-cropper", "augmenter-1", "augmenter-2", "embedding-worker", "evaluator"] {
            let log = (try? String(contentsOf: runs.appendingPathComponent("logs/\(name).log"), encoding: .utf8)) ?? ""
            #expect(!log.isEmpty, "no log for \(name)")
            if name != "coordinator" { #expect(log.contains("exiting cleanly"), "\(name): \(log)") }
        }
    }

    /// CurveZMQ between real processes: a worker with the coordinator's key joins, one
    /// without it does not, and `comcl status` needs the key too.
    @Test func curveEncryptedLinks() throws {
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-coord-\(UUID().uuidString).key")
        defer { try? FileManager.default.removeItem(at: keyFile) }
        let (_, publicKey) = try ChildProcess.run("comcl", ["keygen", keyFile.path])
        let key = publicKey.trimmingCharacters(in: .whitespacesAndNewlines)
        let base = Self.freeBasePort()
        let coordinator = try ChildProcess(
            "comcl-coordinator", ["--control", "tcp://127.0.0.1:\(base)", "--curve-key-file", keyFile.path, "--heartbeat", "0.2"])
        let worker = "tcp://127.0.0.1:\(base + 2)"
        let member = try ChildProcess(
            "comcl-augmenter", ["--coordinator", worker, "--worker-id", "member", "--curve-server-key", key, "--heartbeat", "0.2"])
        let outsider = try ChildProcess("comcl-augmenter", ["--coordinator", worker, "--worker-id", "outsider", "--heartbeat", "0.2"])
        Thread.sleep(forTimeInterval: 1.5)
        let (status, table) = try ChildProcess.run("comcl", ["status", "--control", "tcp://127.0.0.1:\(base)", "--curve-server-key", key])
        #expect(status == 0, "\(table)")
        #expect(table.contains("member") && !table.contains("outsider"), "\(table)")
        let (plainStatus, _) = try ChildProcess.run("comcl", ["status", "--control", "tcp://127.0.0.1:\(base)", "--timeout", "0.5"])
        #expect(plainStatus != 0, "a client without the key must get no answer")
        for child in [member, outsider, coordinator] { child.signal(SIGTERM) }
        #expect(member.wait(timeout: 10) == 0)
        #expect(coordinator.wait(timeout: 15) == 0, "\(coordinator.output)")
    }

    /// Z85 keys may begin with "-"; the option must take one as its value, not as a flag.
    @Test func curveKeyStartingWithADashIsAValue() throws {
        let key = "-" + String(repeating: "a", count: 39)
        let (status, output) = try ChildProcess.run(
            "comcl", ["status", "--control", "tcp://127.0.0.1:\(Self.freeBasePort())", "--timeout", "0.3", "--curve-server-key", key])
        #expect(status == 1, "\(output)")
        #expect(output.contains("is the coordinator running?"), "\(output)")
    }

    @Test func statusWithoutACoordinatorSaysSo() throws {
        let (status, output) = try ChildProcess.run(
            "comcl", ["status", "--control", "tcp://127.0.0.1:\(Self.freeBasePort())", "--timeout", "0.5"])
        #expect(status != 0)
        #expect(output.contains("is the coordinator running?"), "\(output)")
    }

    @Test func coordinatorRefusesAnUnusableEndpoint() throws {
        let (status, output) = try ChildProcess.run("comcl-coordinator", ["--control", "ipc-but-not-really"])
        #expect(status != 0)
        #expect(output.contains("--control ipc-but-not-really"), "\(output)")
    }

    @Test func imageInfoNamesTheBadFile() throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-bad-\(UUID().uuidString).png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0]).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        let (status, output) = try ChildProcess.run("comcl", ["image-info", bad.path, "/nonexistent.png"])
        #expect(status == 1)
        #expect(output.contains("\(bad.path): corrupt or unsupported PNG"), "\(output)")
        #expect(output.contains("/nonexistent.png: cannot read /nonexistent.png: no such file"), "\(output)")
    }

    @Test func curveKeysCanBeGenerated() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = try ChildProcess.run("comcl", ["keygen", file.path])
        #expect(status == 0)
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines.allSatisfy { $0.count == 40 })
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == String(lines[0]))
    }
}
