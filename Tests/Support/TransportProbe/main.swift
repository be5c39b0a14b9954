import ArgumentParser
import Foundation
import ServiceCommandLine
import ServiceKit
import Synchronization
import Transport
import Wire

/// comcl-transport-probe: a generic worker for the transport's integration tests. It
/// answers PatchRequests with a patch computed from the item id, and can be told to be
/// slow, to die abruptly mid-item, or to speak another protocol version.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl-transport-probe", abstract: "A test worker that answers, stalls or dies on cue.")

    @OptionGroup var options: ServiceOptions

    @Option(help: "Seconds each item takes.")
    var delay = 0.0

    @Option(help: "Exit abruptly (no answer, no goodbye) on receiving this many items.")
    var dieAfter: Int?

    @Option(help: "Say Ready with this protocol version instead, print the reply and exit.")
    var protocolVersion: UInt32?

    /// The pixels a probe answers for an item (the tests recompute them).
    static func pixels(item: UInt64) -> [UInt8] { (0..<12).map { UInt8((item &* 31 &+ UInt64($0)) % 251) } }

    func run() throws {
        if let protocolVersion {
            let dealer = try ZMQDealer(ZMQContext(), connect: options.coordinator)
            let ready = Envelope(sender: "probe", body: .ready(Ready(role: .augmenter, workerID: "probe-v\(protocolVersion)")))
            try dealer.send(ready.encoded(version: protocolVersion))
            guard let frames = try dealer.receive(timeout: 5) else { throw ValidationError("no reply") }
            print("reply: \(try Envelope.decode(frames[0]).body)")
            return
        }
        let received = Mutex(0)
        let (delay, dieAfter) = (self.delay, self.dieAfter)
        let code = WorkerService.run(service: "probe", role: .augmenter, settings: try options.settings(service: "probe")) { request in
            let count = received.withLock {
                $0 += 1; return $0
            }
            if count == dieAfter { _exit(9) }
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            guard case .patchRequest(let patch) = request.body else { throw NotYetImplemented("\(request.body.kind)") }
            return .patch(
                Patch(
                    id: patch.id, pixels: try Tensor(uint8: Probe.pixels(item: patch.id.item), shape: [2, 2, 3]), level: patch.level,
                    provenance: Provenance(imageID: patch.imageID, window: Box(x: 0, y: 0, w: 2, h: 2, score: 0), fromDetection: false)))
        }
        if code != 0 { throw ExitCode(code) }
    }
}

Probe.main()
