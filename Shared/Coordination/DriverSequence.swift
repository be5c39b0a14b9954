import Transport
import Wire

/// Drivers run one after the other on the same links (training, then its evaluation): each
/// starts when the one before it has finished without failing; the first failure ends the
/// sequence.
public final class DriverSequence: CoordinatorDriver {
    public let drivers: [any CoordinatorDriver]
    private var index = 0

    public init(_ drivers: [any CoordinatorDriver]) {
        precondition(!drivers.isEmpty, "a sequence needs a driver")
        self.drivers = drivers
    }

    private var current: any CoordinatorDriver { drivers[index] }

    public func attach(_ distributors: [Role: WorkDistributor]) {
        for driver in drivers { driver.attach(distributors) }
    }

    public func handle(_ events: [DistributorEvent], on role: Role) { current.handle(events, on: role) }

    public func advance() {
        current.advance()
        if current.finished, current.failure == nil, index + 1 < drivers.count { index += 1 }
    }

    public var finished: Bool { failure != nil || (index == drivers.count - 1 && current.finished) }
    public var failure: String? { drivers.lazy.compactMap(\.failure).first }
    public var statusLine: String { current.statusLine }
}
