import ArgumentParser
import Foundation
import ServiceKit
import Transport

/// CurveZMQ on a client's side: the workers and `comcl status`. When a flag is absent its
/// environment variable stands in, so a compose overlay turns encryption on by setting the
/// environment without repeating each service's command (compose.curve.yaml; README, Deploying).
public struct CurveClientOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help:
            "CurveZMQ: the coordinator's public key (Z85; it may begin with a dash, so quote it); turns encryption on. Default: $\(CurveEnvironment.serverKey)."
    )
    public var curveServerKey: String?

    @Option(
        help:
            "CurveZMQ: this client's key pair file (comcl keys): public then secret, Z85, one per line; a fresh pair if none. Default: $\(CurveEnvironment.keyFile)."
    )
    public var curveKeyFile: String?

    public init() {}

    /// The client's CURVE settings, or nil when encryption is off (no server key).
    public func role() throws -> CurveRole? {
        guard let server = CurveEnvironment.value(curveServerKey, CurveEnvironment.serverKey) else { return nil }
        let keys = try CurveEnvironment.value(curveKeyFile, CurveEnvironment.keyFile).map(CurveKeyFile.load) ?? CurveKeyPair.generate()
        return .client(keys, serverPublicKey: server)
    }
}
