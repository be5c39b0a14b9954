import ArgumentParser
import Foundation
import Logging
import Transport
import ServiceKit
import Wire

/// Options every worker service shares (the flags read the same in every `--help`).
public struct ServiceOptions: ParsableArguments {
    @Option(help: "ZeroMQ endpoint of the coordinator's link for this service (tcp://host:port or ipc://path).")
    public var coordinator: String

    @Option(help: "Name in logs and status (default: <service>@<host>:<pid>).")
    public var workerID: String?

    @Option(
        help:
            "The run this worker serves (sent in Ready): a coordinator started with another --run-token refuses it, so two runs sharing ports never mix. Default: $\(RunToken.environment), else none."
    )
    public var runToken: String?

    /// 8: results go back in batches of half of it (docs/protocol.md, "Batches").
    @Option(help: "Items held at once (credit announced in Ready); results go back in batches of up to half of it.")
    public var capacity = 8

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

    /// What the worker service needs from these flags.
    public func settings(service: String) throws -> WorkerSettings {
        WorkerSettings(
            coordinator: coordinator, workerID: resolvedWorkerID(service: service), capacity: capacity, heartbeat: heartbeat,
            logLevel: logLevel, socketOptions: try socketOptions(), runToken: RunToken.resolved(runToken))
    }

    public func socketOptions() throws -> SocketOptions {
        var options = SocketOptions()
        options.maxMessageBytes = Int64(maxMessageBytes)
        options.curve = try curve.role()
        return options
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
