import ArgumentParser
import Augmentation
import ServiceCommandLine
import ServiceKit
import Transport
import Wire

/// comcl-augmenter: a worker service connected to the coordinator's augmenter link. It holds no
/// run configuration: the seed and the recipe come with every request, so any number of replicas
/// started with the same flags give the same views. With a data endpoint (the default) it keeps
/// the views and tells the coordinator where they are; the embedding workers fetch them there.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl-augmenter", abstract: "The augmenter: two seeded augmented views per patch; run several side by side.")

    @OptionGroup var options: ServiceOptions
    @OptionGroup var data: DataPlaneOptions

    func run() throws {
        let augmenter = Augmenter()
        var settings = try options.settings(service: "comcl-augmenter")
        let (bind, note) = try data.bind(coordinator: options.coordinator, curve: settings.socketOptions.curve != nil)
        let kept = KeptViews()
        var server: DataServer?
        if let bind {
            var dataOptions = settings.socketOptions
            dataOptions.curve = nil
            server = try DataServer(
                ZMQContext(), bind: bind, views: kept, name: settings.workerID, options: dataOptions,
                logger: .init(label: "comcl.comcl-augmenter"))
            settings.dataEndpoint = server!.endpoint
        }
        defer { server?.stop() }
        let banner = [
            "recipes arrive with each request (default: prior-work); patch sides \(Augmenter.minPatchSide)...\(Augmenter.maxPatchSide)",
            server.map { "views kept for the embedding workers at \($0.endpoint) (at most \(KeptViews.defaultLimit))" } ?? note,
        ]
        let endpoint = settings.dataEndpoint
        let code = WorkerService.run(service: "comcl-augmenter", role: .augmenter, settings: settings, banner: banner) { request in
            guard case .augmentRequest(let augmentRequest) = request.body else {
                throw WorkFailure(code: .unsupported, "the augmenter answers AugmentRequest, not \(request.body.kind)")
            }
            let pair = try augmenter.handle(augmentRequest)
            guard !endpoint.isEmpty else { return .viewPair(pair) }
            kept.put(pair, keepFromStep: augmentRequest.keepFromStep)
            return .viewsStored(
                ViewsStored(
                    id: pair.id, level: pair.level, provenance: pair.provenance, endpoint: endpoint,
                    digest: ViewsDigest.of(pair.first, pair.second), dtype: pair.first.dtype, shape: pair.first.shape))
        }
        if code != 0 { throw ExitCode(code) }
    }
}

WorkerCommand.main()
