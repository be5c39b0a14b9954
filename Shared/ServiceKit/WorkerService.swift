import Foundation
import Logging
import Transport
import Wire

/// Runs one worker service to completion: connect, Ready, heartbeats, handle items,
/// stop cleanly on SIGTERM/SIGINT or Shutdown. Returns the process exit code.
public enum WorkerService {
    public static func run(
        service: String, role: Role, settings: WorkerSettings, banner: [String] = [], handler: @escaping WorkHandler
    ) -> Int32 {
        LogSetup.bootstrap(level: settings.logLevel)
        let logger = Logger(label: "comcl.\(service)")
        let stop = StopSignal()
        for line in banner { logger.info("\(line)") }
        do {
            var config = WorkerConfig(role: role, workerID: settings.workerID)
            config.capacity = settings.capacity
            config.heartbeatInterval = settings.heartbeat
            config.software = "\(service) \(ComclVersion.string)"
            config.runToken = settings.runToken
            config.dataEndpoint = settings.dataEndpoint
            let context = ZMQContext()
            let session = try WorkerSession(
                context: context, endpoint: settings.coordinator, config: config, options: settings.socketOptions,
                logger: logger, handler: handler)
            logger.info("connecting to \(settings.coordinator)")
            let summary = try session.run { stop.isSet }
            logger.info("exiting cleanly: \(summary.itemsDone) items done, \(summary.itemsFailed) failed")
            return 0
        } catch {
            logger.critical("\(error)")
            return 1
        }
    }
}

/// What a worker service runs with: where its coordinator is, who it is, and its link settings
/// (the command line's ServiceOptions fill it).
public struct WorkerSettings: Sendable {
    public var coordinator: String
    public var workerID: String
    public var capacity: Int
    public var heartbeat: Double
    public var logLevel: Logger.Level
    public var socketOptions: SocketOptions
    public var runToken: String
    /// Where the worker serves its results to other workers ("" = none; the data plane).
    public var dataEndpoint = ""

    /// The data plane's sockets (a data endpoint, fetches from others' endpoints): the link's
    /// options without CURVE, which the data endpoints do not have yet.
    public var dataSocketOptions: SocketOptions {
        var options = socketOptions
        options.curve = nil
        return options
    }

    /// A client for fetching from other workers' data endpoints (used on the compute thread).
    public func dataClient() -> DataClient { DataClient(ZMQContext(), name: workerID, options: dataSocketOptions) }

    public init(
        coordinator: String, workerID: String, capacity: Int = 2, heartbeat: Double = 1, logLevel: Logger.Level = .info,
        socketOptions: SocketOptions = SocketOptions(), runToken: String = ""
    ) {
        (self.coordinator, self.workerID, self.capacity, self.heartbeat) = (coordinator, workerID, capacity, heartbeat)
        (self.logLevel, self.socketOptions, self.runToken) = (logLevel, socketOptions, runToken)
    }
}

public enum ComclVersion {
    public static let string = "0.1.0"
}

/// The answer of a service whose work arrives in a later increment: a clear, typed
/// refusal instead of a silent drop, so the router fails the item at once.
public struct NotYetImplemented: WorkError, CustomStringConvertible {
    public let what: String

    public init(_ what: String) { self.what = what }

    public var code: ErrorCode { .unsupported }
    public var description: String { "\(what) is not implemented yet" }
}
