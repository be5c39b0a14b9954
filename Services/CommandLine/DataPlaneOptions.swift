import ArgumentParser
import ServiceKit

/// Where an augmenter serves its views to the embedding workers (the data plane,
/// docs/protocol.md): `auto` binds a free port on this machine's address toward the coordinator;
/// `off` sends the views back to the coordinator inline (the fallback, and always the case with
/// CURVE keys: the data endpoint has no CURVE yet); `tcp://ADDRESS:PORT` binds and hands out
/// exactly that.
public struct DataPlaneOptions: ParsableArguments {
    @Option(
        help:
            "Where embedding workers fetch this augmenter's views: auto (a free port on the address that reaches the coordinator), off (views go back through the coordinator), or tcp://ADDRESS:PORT."
    )
    public var dataEndpoint = "auto"

    public init() {}

    /// The endpoint to bind, or nil for inline views (with the reason, for the log).
    public func bind(coordinator: String, curve: Bool) throws -> (endpoint: String?, note: String) {
        switch dataEndpoint {
        case "off": return (nil, "data endpoint off: views go back through the coordinator")
        case _ where curve: return (nil, "CURVE keys given: views go back through the coordinator (the data endpoint has no CURVE yet)")
        case "auto":
            let address = LocalAddress.toward(endpoint: coordinator) ?? "127.0.0.1"
            return ("tcp://\(address):*", "")
        default:
            guard dataEndpoint.hasPrefix("tcp://"), !dataEndpoint.contains("*") || dataEndpoint.hasSuffix(":*") else {
                throw ValidationError(
                    "--data-endpoint \(dataEndpoint): give auto, off or tcp://ADDRESS:PORT with an address of this machine others reach")
            }
            return (dataEndpoint, "")
        }
    }
}
