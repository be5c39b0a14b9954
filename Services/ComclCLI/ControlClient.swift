import Basics
import Transport
import Wire

/// Asks a coordinator's control link for its status.
struct ControlClient {
    let dealer: ZMQDealer

    /// `curve`: the client's CURVE settings when the coordinator runs with CurveZMQ (a listed key
    /// pair, where it admits listed keys only).
    init(context: ZMQContext, endpoint: String, curve: CurveRole? = nil) throws {
        var options = SocketOptions()
        options.lingerMilliseconds = 0
        options.curve = curve
        dealer = try ZMQDealer(context, connect: endpoint, options: options)
    }

    func status(timeout: Double) throws -> Status? {
        try dealer.send(Envelope(sender: "comcl", body: .statusRequest(StatusRequest())).encoded())
        let deadline = SystemTime().now() + timeout
        while case let left = deadline - SystemTime().now(), left > 0, let frames = try dealer.receive(timeout: left) {
            switch try Envelope.decode(frames[0]).body {
            case .status(let status): return status
            case .error(let report): throw Problem("coordinator refused: \(report.message)")
            default: continue
            }
        }
        return nil
    }
}

extension Status {
    /// A fixed-width table of the peers, one line each.
    var peerTable: String {
        let header = "  role               worker                                     in flight      done  heartbeats  last seen"
        let rows = peers.map { peer in
            let role = "\(peer.role)".padding(toLength: 18, withPad: " ", startingAt: 0)
            let worker = peer.workerID.padding(toLength: 42, withPad: " ", startingAt: 0)
            let counts = [(String(peer.inFlight), 9), (String(peer.itemsDone), 9), (String(peer.heartbeats), 10)].map {
                $0.0.leftPadded($0.1)
            }
            return "  \(role) \(worker) \(counts.joined(separator: " "))  \(Int(peer.lastSeenMsAgo)) ms ago"
        }
        return ([header] + rows).joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
