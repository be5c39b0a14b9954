import ArgumentParser
import Augmentation
import ServiceCommandLine
import ServiceKit
import Transport
import Wire

/// comcl-augmenter: a worker service connected to the coordinator's augmenter link. It holds no
/// run configuration: the seed and the recipe come with every request, so any number of replicas
/// started with the same flags give the same views. With a data endpoint (the default) it keeps
/// the views and tells the coordinator where they are; the embedding workers fetch them there. A
/// patch a cropper keeps is fetched from that cropper.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl-augmenter", abstract: "The augmenter: two seeded augmented views per patch; run several side by side.")

    @OptionGroup var options: ServiceOptions
    @OptionGroup var data: DataPlaneOptions

    func run() throws {
        let augmenter = Augmenter()
        var settings = try options.settings(service: "comcl-augmenter")
        let kept = KeptViews()
        let (server, note) = try data.start(
            coordinator: options.coordinator, settings: &settings, views: kept, logger: .init(label: "comcl.comcl-augmenter"))
        defer { server?.stop() }
        let banner = [
            "recipes arrive with each request (default: prior-work); patch sides \(Augmenter.minPatchSide)...\(Augmenter.maxPatchSide)",
            note,
        ]
        // Patches kept at croppers are fetched from there, on the compute thread.
        let client = settings.dataClient()
        let endpoint = settings.dataEndpoint
        let code = WorkerService.run(service: "comcl-augmenter", role: .augmenter, settings: settings, banner: banner) { request in
            guard case .augmentRequest(let augmentRequest) = request.body else {
                throw WorkFailure(code: .unsupported, "the augmenter answers AugmentRequest, not \(request.body.kind)")
            }
            var patch: Patch?
            if let source = augmentRequest.source {
                // A patch that cannot be fetched fails the item at once (not retried elsewhere,
                // where the fetch would fail too): the coordinator cuts it again.
                do { patch = try client.fetchPatches([source.endpoint: [source.id]])[source.id] } catch {
                    throw WorkFailure(code: .notFound, "\(error)", dataEndpoint: source.endpoint)
                }
            }
            let pair = try augmenter.handle(augmentRequest, patch: patch)
            guard !endpoint.isEmpty else { return .viewPair(pair) }
            kept.put(pair, id: pair.id, keepFromStep: augmentRequest.keepFromStep)
            return .viewsStored(
                ViewsStored(
                    id: pair.id, level: pair.level, provenance: pair.provenance, endpoint: endpoint,
                    digest: ViewsDigest.of(pair.first, pair.second), dtype: pair.first.dtype, shape: pair.first.shape))
        }
        if code != 0 { throw ExitCode(code) }
    }
}

WorkerCommand.main(LayeredArguments.forProcess(WorkerCommand.self))
