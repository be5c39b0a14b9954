import ArgumentParser
import Encoder
import ServiceKit
import Wire

/// comcl-embedding-worker: a ResNet encoder replica, forward and backward on OpenBLAS.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl-embedding-worker",
        abstract: "An embedding worker: one data-parallel replica of the encoder on OpenBLAS.")

    @OptionGroup var options: ServiceOptions

    func run() throws {
        // Which kernels OpenBLAS runs decides its speed (issue 3): choose them for this CPU, log it.
        let choice = BLASCore.select()
        let blas = "\(BLASInfo.summary); \(choice)"
        let code = WorkerService.run(service: "comcl-embedding-worker", role: .embeddingWorker, options: options, banner: [blas]) { request in
            throw NotYetImplemented("the encoder (issue 3)")
        }
        if code != 0 { throw ExitCode(code) }
    }
}

WorkerCommand.main()
