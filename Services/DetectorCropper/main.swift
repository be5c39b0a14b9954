import ArgumentParser
import ServiceKit
import Wire

/// comcl-detector-cropper: a worker service connected to the coordinator's detectorCropper link.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "comcl-detector-cropper", abstract: "The detector/cropper: finds lesion boxes and cuts 128x128 patches (METHOD.md section 2).")

    @OptionGroup var options: ServiceOptions

    func run() throws {
        let code = WorkerService.run(service: "comcl-detector-cropper", role: .detectorCropper, options: options) { request in
            throw NotYetImplemented("patch cutting (issue 4)")
        }
        if code != 0 { throw ExitCode(code) }
    }
}

WorkerCommand.main()
