import ArgumentParser
import Encoder
import Foundation
import ServiceCommandLine
import ServiceKit
import Training
import Wire

/// comcl-embedding-worker: one data-parallel replica of the encoder (oneDNN). It holds no run
/// configuration: the model ("<arch>:<width>"), its weights and the batch-norm group size come
/// with the requests (docs/training.md).
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl-embedding-worker",
        abstract: "An embedding worker: one data-parallel replica of the encoder (forward, backward) on oneDNN.")

    @OptionGroup var options: ServiceOptions

    @Option(help: "Threads for the encoder (oneDNN and our loops) (default: every core; give each of N workers on one machine cores/N).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        // OpenBLAS (the heads) picks its kernels when it loads: choose them for this CPU, log it.
        let choice = BLASCore.select()
        HeapTuning.keepLargeAllocations()
        EngineThreads.set(threads)
        // One shard at a time: the activations of a forward wait for its backward.
        var service = options
        service.capacity = 1
        let settings = try service.settings(service: "comcl-embedding-worker")
        // Views kept at augmenters are fetched from there (the data plane), on the compute thread.
        let client = settings.dataClient()
        let replica = EmbeddingReplica(fetch: { try client.fetch($0) })
        let banner = ["\(EngineInfo.summary); \(choice); \(threads) threads"]
        let code = WorkerService.run(
            service: "comcl-embedding-worker", role: .embeddingWorker, settings: settings,
            banner: banner
        ) { request in
            try replica.handle(request.body)
        }
        if code != 0 { throw ExitCode(code) }
    }
}

WorkerCommand.main()
