import ArgumentParser
import Augmentation
import ServiceCommandLine
import ServiceKit
import Wire

/// comcl-augmenter: a worker service connected to the coordinator's augmenter link. It holds no
/// run configuration: the seed and the recipe come with every request, so any number of replicas
/// started with the same flags give the same views.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl-augmenter", abstract: "The augmenter: two seeded augmented views per patch; run several side by side.")

    @OptionGroup var options: ServiceOptions

    func run() throws {
        let augmenter = Augmenter()
        let banner = [
            "recipes arrive with each request (default: prior-work); patch sides \(Augmenter.minPatchSide)...\(Augmenter.maxPatchSide)"
        ]
        let code = WorkerService.run(
            service: "comcl-augmenter", role: .augmenter, settings: try options.settings(service: "comcl-augmenter"), banner: banner
        ) { request in
            guard case .augmentRequest(let augmentRequest) = request.body else {
                throw WorkFailure(code: .unsupported, "the augmenter answers AugmentRequest, not \(request.body.kind)")
            }
            return .viewPair(try augmenter.handle(augmentRequest))
        }
        if code != 0 { throw ExitCode(code) }
    }
}

WorkerCommand.main()
