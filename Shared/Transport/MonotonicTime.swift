import Glibc

/// Seconds on a clock that never jumps; injected so tests can move time by hand.
public protocol MonotonicTime: AnyObject {
    func now() -> Double
}

public final class SystemTime: MonotonicTime, @unchecked Sendable {
    public init() {}

    public func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// A clock for tests: time moves only when told to.
public final class ManualTime: MonotonicTime {
    public var current: Double

    public init(_ start: Double = 0) { current = start }

    public func now() -> Double { current }

    public func advance(_ seconds: Double) { current += seconds }
}
