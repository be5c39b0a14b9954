import Wire

/// The coordinator's endpoints: one ROUTER per worker role, so each pool scales on its
/// own and a replacement service connects to exactly one address, plus a control link.
public struct Links: Sendable, Equatable {
    public var workers: [Role: String]
    public var control: String

    /// `host` (e.g. `tcp://127.0.0.1`) with the control link on `basePort` and the worker
    /// links on the next four ports, in `workerRoles` order.
    public static func derived(host: String, basePort: Int) -> Links {
        let workers = Dictionary(uniqueKeysWithValues: workerRoles.enumerated().map { ($1, "\(host):\(basePort + 1 + $0)") })
        return Links(workers: workers, control: "\(host):\(basePort)")
    }

    /// Loopback by default (docs/architecture.md section 4: bind to loopback unless configured).
    public static func loopback(basePort: Int) -> Links {
        derived(host: "tcp://127.0.0.1", basePort: basePort)
    }

    public init(workers: [Role: String], control: String) {
        self.workers = workers
        self.control = control
    }

    /// The worker roles in a fixed order (logs and tables read the same every run).
    public static let workerRoles: [Role] = [.detectorCropper, .augmenter, .embeddingWorker, .evaluator]
}
