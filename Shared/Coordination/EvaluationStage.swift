import Logging
import Transport
import Wire

/// The coordinator's last stage (docs/architecture.md section 2: checkpoint -> evaluator): hands one
/// EvaluationRequest to an evaluator and waits for its result. The request is pinned to one
/// evaluator, so it has no deadline (an evaluation takes minutes; the worker's heartbeats say it
/// is alive); if that evaluator leaves, the request goes to the next one that joins.
public final class EvaluationStage: CoordinatorDriver {
    /// Evaluators that may leave mid-evaluation before the stage gives up.
    public static let maxAttempts = 3
    private let request: EvaluationRequest
    private let logger: Logger
    private var link: WorkDistributor?
    private var evaluator: String?
    private var attempt = 0
    private var waitingSaid = false
    private let onResult: (EvaluationResult) throws -> Void
    public private(set) var result: EvaluationResult?
    public private(set) var failure: String?
    public private(set) var finished = false

    /// `onResult` keeps the result (the coordinator writes it into the run folder); an error it
    /// throws fails the stage.
    public init(request: EvaluationRequest, logger: Logger, onResult: @escaping (EvaluationResult) throws -> Void = { _ in }) {
        (self.request, self.logger, self.onResult) = (request, logger, onResult)
    }

    public func attach(_ distributors: [Role: WorkDistributor]) {
        link = distributors[.evaluator]
        if link == nil { fail("the coordinator has no evaluator link") }
    }

    public func handle(_ events: [DistributorEvent], on role: Role) {
        guard role == .evaluator, !finished else { return }
        for event in events {
            switch event {
            case .result(let id, .evaluationResult(let reply), let worker) where id == currentID:
                do { try onResult(reply) } catch { return fail("cannot keep the evaluation's result: \(error)") }
                result = reply
                finished = true
                logger.info("evaluation done by \(worker): report \(reply.report)\n\(reply.table)")
            case .result(let id, let body, let worker) where id == currentID:
                fail("evaluator \(worker) answered \(body.kind), not EvaluationResult")
            case .failed(let id, let report) where id == currentID:
                failed(report)
            default: break
            }
        }
    }

    public func advance() {
        guard !finished, evaluator == nil, let link else { return }
        guard let worker = link.workers.first?.workerID else {
            if !waitingSaid { logger.info("waiting for an evaluator to join the evaluator link") }
            waitingSaid = true
            return
        }
        var attemptRequest = request
        attemptRequest.id = currentID
        evaluator = worker
        logger.info(
            "evaluation: asking \(worker) (attempt \(attempt + 1)): \(request.models.map(\.name).joined(separator: ", ")) -> \(request.output)"
        )
        let (_, events) = link.submit(.evaluationRequest(attemptRequest), to: worker)
        handle(events, on: .evaluator)
    }

    public var statusLine: String {
        if let failure { return "evaluation failed: \(failure)" }
        if let result { return "evaluation finished: \(result.report)" }
        return evaluator.map { "evaluating on \($0) (attempt \(attempt + 1))" } ?? "evaluation: waiting for an evaluator"
    }

    /// Each attempt has its own item, so a late answer of an evaluator given up on is ignored.
    private var currentID: WorkID { WorkID(run: request.id.run, step: request.id.step, item: request.id.item + UInt64(attempt)) }

    private func failed(_ report: ErrorReport) {
        guard report.code == .unavailable else { return fail("the evaluator refused the evaluation: \(report.message)") }
        guard attempt + 1 < Self.maxAttempts else {
            return fail("\(Self.maxAttempts) evaluators left mid-evaluation; last: \(report.message)")
        }
        logger.warning("evaluation: \(report.message); asking the next evaluator")
        attempt += 1
        evaluator = nil
    }

    private func fail(_ reason: String) {
        guard failure == nil else { return }
        failure = reason
        finished = true
        logger.error("evaluation stopped: \(reason)")
    }
}
