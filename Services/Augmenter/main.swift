import ArgumentParser
import ServiceKit
import Wire

/// comcl-augmenter: a worker service connected to the coordinator's augmenter link.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "comcl-augmenter", abstract: "The augmenter: two seeded augmented views per patch; run several side by side.")

    @OptionGroup var options: ServiceOptions

    func run() throws {
        let code = WorkerService.run(service: "comcl-augmenter", role: .augmenter, options: options) { request in
            throw NotYetImplemented("augmentation (issue 5)")
        }
        if code != 0 { throw ExitCode(code) }
    }
}

WorkerCommand.main()
