import Wire

/// The coordinator's endpoints: one ROUTER per worker role, so each pool scales on its
/// own and a replacement service connects to exactly one address, plus a control link.
public struct Links: Sendable, Equatable {
    public var workers: [Role: String]
    public var control: String

    /// Loopback by default (DESIGN.md section 4: bind to loopback unless configured).
    public static func loopback(basePort: Int) -> Links {
        Links(
            workers: [
                .detectorCropper: "tcp://127.0.0.1:\(basePort + 1)",
                .augmenter: "tcp://127.0.0.1:\(basePort + 2)",
                .embeddingWorker: "tcp://127.0.0.1:\(basePort + 3)",
                .evaluator: "tcp://127.0.0.1:\(basePort + 4)",
            ],
            control: "tcp://127.0.0.1:\(basePort)")
    }

    public init(workers: [Role: String], control: String) {
        self.workers = workers
        self.control = control
    }

    /// The worker roles in a fixed order (logs and tables read the same every run).
    public static let workerRoles: [Role] = [.detectorCropper, .augmenter, .embeddingWorker, .evaluator]
}
