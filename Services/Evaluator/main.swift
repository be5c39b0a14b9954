import ArgumentParser
import ServiceKit
import Wire

/// comcl-evaluator: a worker service connected to the coordinator's evaluator link.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "comcl-evaluator", abstract: "The evaluator: fine-tunes and scores diagnosis (kappa, accuracy, AUC).")

    @OptionGroup var options: ServiceOptions

    func run() throws {
        let code = WorkerService.run(service: "comcl-evaluator", role: .evaluator, options: options) { request in
            throw NotYetImplemented("evaluation (issue 7)")
        }
        if code != 0 { throw ExitCode(code) }
    }
}

WorkerCommand.main()
