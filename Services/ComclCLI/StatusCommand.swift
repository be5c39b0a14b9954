import ArgumentParser
import ServiceKit
import Transport

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print the workers connected to a running coordinator.")

    @Option(help: "The coordinator's control link.")
    var control = "tcp://127.0.0.1:5570"

    @Option(help: "Seconds to wait for an answer.")
    var timeout = 3.0

    @Option(parsing: .unconditional, help: "CurveZMQ: the coordinator's public key (Z85; it may begin with a dash, so quote it), when it runs with --curve-key-file.")
    var curveServerKey: String?

    @Option(help: "CurveZMQ: this client's key pair file (comcl keys), when the coordinator admits listed keys only.")
    var curveKeyFile: String?

    func run() throws {
        let context = ZMQContext()
        let keys = try curveKeyFile.map(CurveKeyFile.load)
        guard let status = try ControlClient(context: context, endpoint: control, curveServerKey: curveServerKey, keys: keys).status(timeout: timeout) else {
            throw ValidationFailure("no answer from \(control) within \(timeout) s: is the coordinator running?")
        }
        print("\(status.workerID): up \(Int(status.uptimeSeconds)) s; \(status.detail)")
        print(status.peerTable)
    }
}
