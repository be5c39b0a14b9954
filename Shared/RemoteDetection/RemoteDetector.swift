import Datasets
import Detection
import Foundation
import Images
import Transport
import Wire

/// A detector in another process, in any language: it answers DetectRequest with DetectReply over
/// a ZeroMQ REQ/REP link (Examples/python-detector is the template). The client is the zguide's
/// Lazy Pirate: wait `timeout` seconds for the answer; if none comes, close the socket (a REQ
/// socket cannot send twice), reconnect and resend, `tries` times in all; then fail with a clear
/// error instead of hanging. Requests are serialised: one in flight per detector object.
public final class RemoteDetector: LesionDetector, @unchecked Sendable {
    public let endpoint: String
    public let timeout: Double
    public let tries: Int
    private let context = ZMQContext()
    private let lock = NSLock()
    private var socket: ZMQSocket?
    private var sequence: UInt64 = 0

    /// Timeout 30 s: the built-in detector needs ~0.35 s per 512-px image on one core, and a
    /// network detector may run on a busy CPU; three tries as in the zguide's example.
    public init(endpoint: String, timeout: Double = 30, tries: Int = 3) {
        (self.endpoint, self.timeout, self.tries) = (endpoint, timeout, max(1, tries))
    }

    /// Boxes are cached under this name: a different model served at the same endpoint needs a
    /// fresh cache folder (docs/detection.md).
    public var identity: String { "remote \(endpoint)" }

    public func detect(_ image: RGBImage, imageID: String) throws -> [LesionBox] {
        lock.lock()
        defer { lock.unlock() }
        sequence += 1
        let id = WorkID(run: "detect", step: 0, item: sequence)
        let request = Envelope(
            sender: "comcl-detector-cropper",
            body: .detectRequest(
                DetectRequest(
                    id: id, imageID: imageID, image: .encoded(try PNGEncoder.encode(image)),
                    width: image.width, height: image.height))
        ).encoded()
        for _ in 0..<tries {
            let link = try connected()
            try link.send([request])
            guard let frames = try link.receive(timeout: timeout) else {
                link.close()
                socket = nil
                continue
            }
            return try boxes(from: frames, id: id)
        }
        throw WorkFailure(code: .internalError, "the detector at \(endpoint) did not answer within \(timeout) s, \(tries) tries")
    }

    private func connected() throws -> ZMQSocket {
        if let socket { return socket }
        var options = SocketOptions()
        options.lingerMilliseconds = 0  // an abandoned request must not hold the process at exit
        let link = try ZMQSocket(context, .req, options: options)
        try link.connect(endpoint)
        socket = link
        return link
    }

    private func boxes(from frames: [[UInt8]], id: WorkID) throws -> [LesionBox] {
        let envelope: Envelope
        do { envelope = try Envelope.decode(frames.flatMap { $0 }) } catch {
            throw WorkFailure(code: .internalError, "the detector at \(endpoint) sent a malformed reply: \(error)")
        }
        switch envelope.body {
        case .detectReply(let reply) where reply.id == id:
            return reply.boxes.map { b in
                // Class 1 = dark (red) lesions, 2 = bright ones, as the example detector numbers them.
                let name = b.classID == 1 ? "dark" : b.classID == 2 ? "bright" : "class-\(b.classID)"
                return LesionBox(
                    x: Double(b.x), y: Double(b.y), width: Double(b.w), height: Double(b.h), score: Double(b.score), lesionClass: name)
            }
        case .detectReply(let reply):
            throw WorkFailure(code: .internalError, "the detector at \(endpoint) answered item \(reply.id.item), not \(id.item)")
        case .error(let report):
            throw WorkFailure(code: .internalError, "the detector at \(endpoint) refused: \(report.message)")
        default:
            throw WorkFailure(code: .internalError, "the detector at \(endpoint) answered \(envelope.body.kind), not DetectReply")
        }
    }
}
