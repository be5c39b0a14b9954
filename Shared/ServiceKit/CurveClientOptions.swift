import ArgumentParser
import Foundation
import Transport

/// CurveZMQ on a client's side: the workers and `comcl status`. When a flag is absent its
/// environment variable stands in, so a compose overlay turns encryption on by setting the
/// environment without repeating each service's command (compose.curve.yaml; README, Deploying).
public struct CurveClientOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "CurveZMQ: the coordinator's public key (Z85; it may begin with a dash, so quote it); turns encryption on. Default: $\(CurveEnvironment.serverKey).")
    public var curveServerKey: String?

    @Option(help: "CurveZMQ: this client's key pair file (comcl keys): public then secret, Z85, one per line; a fresh pair if none. Default: $\(CurveEnvironment.keyFile).")
    public var curveKeyFile: String?

    public init() {}

    /// The client's CURVE settings, or nil when encryption is off (no server key).
    public func role() throws -> CurveRole? {
        guard let server = CurveEnvironment.value(curveServerKey, CurveEnvironment.serverKey) else { return nil }
        let keys = try CurveEnvironment.value(curveKeyFile, CurveEnvironment.keyFile).map(CurveKeyFile.load) ?? CurveKeyPair.generate()
        return .client(keys, serverPublicKey: server)
    }
}

/// The environment variables that stand in for absent CURVE flags (an empty one counts as unset,
/// as compose leaves an unset `${VAR}`).
public enum CurveEnvironment {
    /// Workers and `comcl status`: the coordinator's public key, and this client's key pair file.
    public static let serverKey = "COMCL_CURVE_SERVER_KEY"
    public static let keyFile = "COMCL_CURVE_KEY_FILE"
    /// The coordinator: its own key pair file, and the client keys it admits. Named apart from the
    /// client's, since `comcl status` (the coordinator's healthcheck) runs in the same container.
    public static let coordinatorKeyFile = "COMCL_CURVE_COORDINATOR_KEY_FILE"
    public static let clients = "COMCL_CURVE_CLIENTS"

    /// The flag's value if given, else the variable's if set and not empty.
    public static func value(_ flag: String?, _ variable: String) -> String? {
        if let flag { return flag }
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else { return nil }
        return value
    }
}
