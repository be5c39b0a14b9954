import Foundation

/// The token that ties a run's workers to its coordinator (Ready.run_token). The local launcher
/// makes a fresh one per launch; a deployment may set one for every container through the
/// environment. No token on the coordinator means any worker is accepted, as before tokens.
public enum RunToken {
    public static let environment = "COMCL_RUN_TOKEN"

    /// The flag's value, else the environment's, else "" (none).
    public static func resolved(_ flag: String?) -> String {
        flag ?? ProcessInfo.processInfo.environment[environment] ?? ""
    }

    /// A new token for one launch (random, so a restarted launcher never matches a stale worker).
    public static func fresh() -> String {
        UUID().uuidString.lowercased()
    }
}
