import ArgumentParser
import Foundation
import ServiceKit
import Transport

/// `comcl keys`: every CurveZMQ key a deployment needs, as files the services load.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract:
            "Write CurveZMQ keys for a deployment: coordinator.key, client-N.key per worker, and clients.txt (the public keys the coordinator admits).",
        discussion: """
            Coordinator: --curve-key-file coordinator.key --curve-clients clients.txt. Each worker (and \
            comcl status): --curve-key-file client-N.key --curve-server-key "$(head -1 coordinator.key)". \
            Secret keys are written mode 0600; existing files are never overwritten.
            """)

    @Option(help: "Folder to write into (created).") var out: String
    @Option(help: "Client key pairs to make: one per worker process, plus one for comcl status.") var clients = 8
    @Option(
        help:
            "Name the client pairs instead (comma-separated; <name>.key each), e.g. one per compose service whose replicas share it. Overrides --clients."
    )
    var names: String?

    /// The client pairs' names: the given ones, or client-1...client-N.
    var clientNames: [String] {
        names.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? (1...clients).map { "client-\($0)" }
    }

    func validate() throws {
        guard (1...10_000).contains(clients) else { throw ValidationError("--clients must be 1...10000") }
        for name in clientNames {
            guard !name.isEmpty, name != "coordinator", name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ValidationError("--names: \"\(name)\" is not a usable key name (letters, digits, - and _; not \"coordinator\")")
            }
        }
        guard Set(clientNames).count == clientNames.count else { throw ValidationError("--names: a name is given twice") }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let files = ["coordinator.key", "clients.txt"] + clientNames.map { "\($0).key" }
        for name in files where FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
            throw ValidationError("\(folder.appendingPathComponent(name).path) exists: keys are never overwritten (give another --out)")
        }
        let coordinator = try CurveKeyPair.generate()
        try CurveKeyFile.save(coordinator, to: folder.appendingPathComponent("coordinator.key").path)
        var list = ["# CurveZMQ client public keys the coordinator admits (--curve-clients); one per line, then its name"]
        for name in clientNames {
            let keys = try CurveKeyPair.generate()
            try CurveKeyFile.save(keys, to: folder.appendingPathComponent("\(name).key").path)
            list.append("\(keys.publicKey) \(name)")
        }
        try (list.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("clients.txt"), atomically: true, encoding: .utf8)
        print("coordinator public key \(coordinator.publicKey)")
        print(
            "wrote \(folder.path)/coordinator.key, \(clientNames.count) client pairs (\(clientNames.first!).key ... \(clientNames.last!).key), clients.txt"
        )
    }
}
