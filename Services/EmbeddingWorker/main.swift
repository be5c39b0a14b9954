import ArgumentParser
import Encoder
import Foundation
import Logging
import ServiceCommandLine
import ServiceKit
import Training
import Transport
import Wire

/// comcl-embedding-worker: one data-parallel replica of the encoder (oneDNN). It holds no run
/// configuration: the model ("<arch>:<width>"), its state and the batch-norm group size come
/// with the requests (docs/training.md); it sums its gradients with the other workers at its
/// data endpoint and takes each step itself.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl-embedding-worker",
        abstract: "An embedding worker: one data-parallel replica of the encoder (forward, backward) on oneDNN.")

    @OptionGroup var options: ServiceOptions
    @OptionGroup var data: DataPlaneOptions

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
        var settings = try service.settings(service: "comcl-embedding-worker")
        // Peers push their gradient parts to our data endpoint; without one, steps are relayed.
        let inbox = GradientInbox()
        let (server, note) = try data.start(
            coordinator: options.coordinator, settings: &settings, inbox: inbox, logger: .init(label: "comcl.comcl-embedding-worker"))
        defer { server?.stop() }
        // Views kept at augmenters are fetched from there (the data plane), on the compute thread;
        // parts go to peers through a client of their own (a failed fetch resets its sockets).
        let client = settings.dataClient()
        let peers = server.map { _ in GradientPeers(inbox: inbox, client: settings.dataClient()) }
        let replica = EmbeddingReplica(fetch: { try client.fetch($0) }, peers: peers)
        let banner = ["\(EngineInfo.summary); \(choice); \(threads) threads", note]
        let code = WorkerService.run(
            service: "comcl-embedding-worker", role: .embeddingWorker, settings: settings,
            banner: banner
        ) { request in
            try replica.handle(request.body)
        }
        if code != 0 { throw ExitCode(code) }
    }
}

WorkerCommand.main(LayeredArguments.forProcess(WorkerCommand.self))
