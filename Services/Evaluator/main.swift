import ArgumentParser
import Encoder
import Evaluation
import Foundation
import Logging
import ServiceCommandLine
import ServiceKit
import Transport
import Wire

/// comcl-evaluator: a worker service connected to the coordinator's evaluator link. It answers
/// EvaluationRequest with what `comcl evaluate` does in-process (docs/evaluation.md): fine-tune
/// or linear-probe classifiers on the named encoders, score them across the low-quality sweep,
/// write results.json, predictions and report.md into the request's output folder.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl-evaluator", abstract: "The evaluator: fine-tunes and scores diagnosis (kappa, accuracy, AUC).")

    @OptionGroup var options: ServiceOptions

    @Option(help: "Threads for the encoder (oneDNN and our loops) (default: every core).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let choice = BLASCore.select()
        HeapTuning.keepLargeAllocations()
        EngineThreads.set(threads)
        let threads = threads
        // One evaluation at a time: it uses every thread it is given.
        var service = options
        service.capacity = 1
        let banner = ["\(EngineInfo.summary); \(choice); \(threads) threads"]
        let code = WorkerService.run(
            service: "comcl-evaluator", role: .evaluator, settings: try service.settings(service: "comcl-evaluator"), banner: banner
        ) { request in
            guard case .evaluationRequest(let evaluation) = request.body else {
                throw WorkFailure(code: .unsupported, "the evaluator answers EvaluationRequest, not \(request.body.kind)")
            }
            let logger = Logger(label: "comcl.comcl-evaluator")
            let job = try EvaluationJob(evaluation)
            logger.info("evaluation \(evaluation.id): \(job.models.map(\.name).joined(separator: ", ")) on \(job.labels) -> \(job.output)")
            let outcome = try job.run(threads: threads) { logger.info("\($0)") }
            let results = try String(contentsOf: URL(fileURLWithPath: job.output).appendingPathComponent("results.json"), encoding: .utf8)
            logger.info("evaluation \(evaluation.id) done: report \(outcome.report.path)\n\(outcome.table)")
            return .evaluationResult(
                EvaluationResult(id: evaluation.id, results: results, table: outcome.table, report: outcome.report.path))
        }
        if code != 0 { throw ExitCode(code) }
    }
}

/// A request naming missing files, unusable data or a bad config fails at once (no retry helps).
extension EvaluationError: WorkError {
    public var code: ErrorCode { .badInput }
}

WorkerCommand.main(LayeredArguments.forProcess(WorkerCommand.self))
