import ArgumentParser
import Foundation
import Logging
import Transport
import Wire

/// Options every worker service shares (the flags read the same in every `--help`).
public struct ServiceOptions: ParsableArguments {
    @Option(help: "ZeroMQ endpoint of the coordinator's link for this service (tcp://host:port or ipc://path).")
    public var coordinator: String

    @Option(help: "Name in logs and status (default: <service>@<host>:<pid>).")
    public var workerID: String?

    @Option(help: "The run this worker serves (sent in Ready): a coordinator started with another --run-token refuses it, so two runs sharing ports never mix. Default: $\(RunToken.environment), else none.")
    public var runToken: String?

    @Option(help: "Items held at once (credit announced in Ready).")
    public var capacity = 2

    @Option(help: "Heartbeat period in seconds (zguide Paranoid Pirate: 1 s).")
    public var heartbeat = 1.0

    @Option(help: "Largest incoming message in bytes (ZMQ_MAXMSGSIZE).")
    public var maxMessageBytes = WireLimits.defaultMaxMessageBytes

    @OptionGroup public var curve: CurveClientOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: Logger.Level = .info

    public init() {}

    public func resolvedWorkerID(service: String) -> String {
        workerID ?? "\(service)@\(ProcessInfo.processInfo.hostName):\(getpid())"
    }

    public func socketOptions() throws -> SocketOptions {
        var options = SocketOptions()
        options.maxMessageBytes = Int64(maxMessageBytes)
        options.curve = try curve.role()
        return options
    }
}

/// A CurveZMQ key pair stored as two lines of Z85 text: public, then secret.
public enum CurveKeyFile {
    public static func load(_ path: String) throws -> CurveKeyPair {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
        guard lines.count >= 2 else { throw ValidationError("\(path): expected two lines (public key, secret key)") }
        return try CurveKeyPair(publicKey: lines[0], secretKey: lines[1])
    }

    /// A list of client public keys: one per line, the key first (anything after whitespace names
    /// it); blank lines and lines starting with "# " are comments (Z85 has no space, but has "#").
    public static func publicKeys(_ path: String) throws -> [String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw ValidationError("\(path): cannot read the client key list (\(error.localizedDescription))") }
        var keys: [String] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("# ") else { continue }
            let line = String(trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).first!)
            guard line.utf8.count == 40 else { throw ValidationError("\(path):\(number + 1): \"\(line.prefix(12))...\" is not a 40-character Z85 public key") }
            keys.append(line)
        }
        guard !keys.isEmpty else { throw ValidationError("\(path): no client keys listed (every client would be refused)") }
        return keys
    }

    public static func save(_ keys: CurveKeyPair, to path: String) throws {
        try "\(keys.publicKey)\n\(keys.secretKey)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
    }
}
