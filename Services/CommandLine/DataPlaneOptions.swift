import ArgumentParser
import Logging
import ServiceKit
import Transport

/// Where a cropper serves its patches to the augmenters, an augmenter its views to the
/// embedding workers, or an embedding worker takes its peers' gradient parts (the data plane,
/// docs/protocol.md): `auto` binds a free port on this machine's address toward the coordinator;
/// `off` sends them back to the coordinator inline (the fallback, and always the case with CURVE
/// keys: the data endpoint has no CURVE yet); `tcp://ADDRESS:PORT` binds and hands out exactly that.
public struct DataPlaneOptions: ParsableArguments {
    @Option(
        help:
            "Where other workers reach this one (a cropper's patches, an augmenter's views, an embedding worker's gradient sums): auto (a free port on the address that reaches the coordinator), off (through the coordinator), or tcp://ADDRESS:PORT."
    )
    public var dataEndpoint = "auto"

    public init() {}

    /// The endpoint to bind, or nil for inline views (with the reason, for the log).
    public func bind(coordinator: String, curve: Bool) throws -> (endpoint: String?, note: String) {
        switch dataEndpoint {
        case "off": return (nil, "data endpoint off: results go through the coordinator")
        case _ where curve: return (nil, "CURVE keys given: results go through the coordinator (the data endpoint has no CURVE yet)")
        case "auto":
            // An address others may not reach would fail every fetch: without one, stay inline.
            guard let address = LocalAddress.toward(endpoint: coordinator) else {
                return (
                    nil,
                    "no IPv4 address of this machine routes to \(coordinator): results go through the coordinator (--data-endpoint tcp://ADDRESS:PORT serves them from ADDRESS)"
                )
            }
            return ("tcp://\(address):*", "")
        default:
            guard dataEndpoint.hasPrefix("tcp://"), !dataEndpoint.contains("*") || dataEndpoint.hasSuffix(":*") else {
                throw ValidationError(
                    "--data-endpoint \(dataEndpoint): give auto, off or tcp://ADDRESS:PORT with an address of this machine others reach")
            }
            return (dataEndpoint, "")
        }
    }

    /// Starts the data endpoint serving `views` or `patches`, or taking gradient parts into
    /// `inbox`, when one is wanted, and records it in `settings` (sent in Ready). Returns the
    /// server (nil: through the coordinator) and a line for the log.
    public func start(
        coordinator: String, settings: inout WorkerSettings, views: KeptViews? = nil, patches: KeptPatches? = nil,
        inbox: GradientInbox? = nil, logger: Logger
    ) throws -> (server: DataServer?, banner: String) {
        let (bind, note) = try bind(coordinator: coordinator, curve: settings.socketOptions.curve != nil)
        guard let bind else { return (nil, note) }
        let server = try DataServer(
            ZMQContext(), bind: bind, views: views, patches: patches, inbox: inbox, name: settings.workerID,
            options: settings.dataSocketOptions, logger: logger)
        settings.dataEndpoint = server.endpoint
        if inbox != nil { return (server, "gradient sums with the other embedding workers at \(server.endpoint)") }
        let what = views != nil ? "views kept for the embedding workers" : "patches kept for the augmenters"
        return (server, "\(what) at \(server.endpoint) (at most \(KeptViews.defaultLimit))")
    }
}
