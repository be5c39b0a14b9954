import ArgumentParser
import Basics
import ServiceCommandLine
import ServiceKit
import Transport

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print the workers connected to a running coordinator.")

    @Option(help: "The coordinator's control link.")
    var control = "tcp://127.0.0.1:5570"

    @Option(help: "Seconds to wait for an answer.")
    var timeout = 3.0

    @OptionGroup var curve: CurveClientOptions

    func run() throws {
        let context = ZMQContext()
        guard let status = try ControlClient(context: context, endpoint: control, curve: try curve.role()).status(timeout: timeout) else {
            throw Problem("no answer from \(control) within \(timeout) s: is the coordinator running?")
        }
        print("\(status.workerID): up \(Int(status.uptimeSeconds)) s; \(status.detail)")
        print(status.peerTable)
    }
}
