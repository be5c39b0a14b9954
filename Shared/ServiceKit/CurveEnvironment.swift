import Foundation

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
