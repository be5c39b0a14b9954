import Transport
import Wire

/// The work a coordinator drives over its links (the training run): it submits items to the
/// distributors it is given, sees every event, and says when it is done. The service owns the
/// sockets and the loop; a driver never blocks.
public protocol CoordinatorDriver: AnyObject {
    /// Called once, before the loop, with each worker link's distributor.
    func attach(_ distributors: [Role: WorkDistributor])
    /// Events of one link, as they happen.
    func handle(_ events: [DistributorEvent], on role: Role)
    /// Called every loop turn (at least every 0.1 s): move work on.
    func advance()
    /// True once the work is over (done or failed); the service then stops its workers.
    var finished: Bool { get }
    /// Why it failed, if it did (the coordinator exits non-zero).
    var failure: String? { get }
    /// One line for `comcl status`.
    var statusLine: String { get }
}
