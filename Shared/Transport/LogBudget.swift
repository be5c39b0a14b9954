/// Keeps a line that could repeat every 100 ms (a refused client reconnecting, a peer cut off and
/// coming back) from flooding the log: at most `lines` lines per key in any `seconds`; what it
/// holds back is counted and told with the next line it lets through.
struct LogBudget {
    /// Default 10 a minute: every case of a handful of bad peers shows; a reconnect loop shows as its
    /// first 10 lines and then one a minute with the count.
    let lines: Int
    let seconds: Double
    private var windows: [String: Window] = [:]

    init(lines: Int = 10, seconds: Double = 60) { (self.lines, self.seconds) = (lines, seconds) }

    private struct Window {
        var start: Double
        var logged = 0
        var held = 0
    }

    /// nil: hold this one back. Otherwise log it, adding how many were held back since the last
    /// line of this key (0: none).
    mutating func admit(_ key: String, now: Double) -> Int? {
        if windows.count > 10_000 { windows = windows.filter { now - $0.value.start < seconds } }  // many keys (hosts): keep the live ones
        var window = windows[key] ?? Window(start: now)
        if now - window.start >= seconds { (window.start, window.logged) = (now, 0) }
        defer { windows[key] = window }
        guard window.logged < lines else {
            window.held += 1
            return nil
        }
        window.logged += 1
        defer { window.held = 0 }
        return window.held
    }

    /// " (N more held back)" for a count from `admit`, "" for 0.
    static func suffix(_ held: Int) -> String { held > 0 ? " (\(held) more like it not logged)" : "" }
}
