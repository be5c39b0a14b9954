import Foundation
import Logging
import Transport
import Wire

/// Runs one worker service to completion: connect, Ready, heartbeats, handle items,
/// stop cleanly on SIGTERM/SIGINT or Shutdown. Returns the process exit code.
public enum WorkerService {
    public static func run(
        service: String, role: Role, options: ServiceOptions, banner: [String] = [], handler: @escaping WorkHandler
    ) -> Int32 {
        LogSetup.bootstrap(level: options.logLevel)
        let workerID = options.resolvedWorkerID(service: service)
        let logger = Logger(label: "comcl.\(service)")
        let stop = StopSignal()
        for line in banner { logger.info("\(line)") }
        do {
            var config = WorkerConfig(role: role, workerID: workerID)
            config.capacity = options.capacity
            config.heartbeatInterval = options.heartbeat
            config.software = "\(service) \(ComclVersion.string)"
            config.runToken = RunToken.resolved(options.runToken)
            let context = ZMQContext()
            let session = try WorkerSession(
                context: context, endpoint: options.coordinator, config: config, options: try options.socketOptions(),
                logger: logger, handler: handler)
            logger.info("connecting to \(options.coordinator)")
            let summary = try session.run { stop.isSet }
            logger.info("exiting cleanly: \(summary.itemsDone) items done, \(summary.itemsFailed) failed")
            return 0
        } catch {
            logger.critical("\(error)")
            return 1
        }
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
