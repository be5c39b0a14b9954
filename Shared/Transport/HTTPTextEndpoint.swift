import Foundation
import Logging
import Synchronization

/// A plain-text HTTP endpoint (what Prometheus scrapes): GET of one path answers the current
/// body, anything else 404 or 405, each connection closed after its answer (HTTP/1.0 style,
/// which every scraper accepts). It runs on its own thread over libzmq's raw-TCP socket
/// (ZMQ_STREAM), so it needs no web framework and never blocks the service's loop; the body is
/// set by the service whenever it has news. Requests are small: a header that does not end
/// within 8 KiB is answered 431 and closed.
public final class HTTPTextEndpoint: @unchecked Sendable {
    public let endpoint: String
    public let path: String
    private let socket: ZMQSocket
    private let body = Mutex("")
    private let contentType: String
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let logger: Logger
    /// Bytes of each connection's request so far, until its header ends.
    private var pending: [[UInt8]: [UInt8]] = [:]
    static let maxHeaderBytes = 8192

    /// `bind`: e.g. tcp://0.0.0.0:9464; `contentType`: Prometheus text is "text/plain; version=0.0.4".
    public init(bind: String, path: String, contentType: String, logger: Logger) throws {
        socket = try ZMQSocket(ZMQContext(), .stream)
        try socket.bind(bind)
        endpoint = try socket.lastEndpoint
        (self.path, self.contentType, self.logger) = (path, contentType, logger)
        let thread = Thread { [self] in serve() }
        thread.name = "http-\(path)"
        thread.start()
    }

    /// What the next GET answers.
    public func update(_ text: String) { body.withLock { $0 = text } }

    private func serve() {
        defer { done.signal() }
        while !stopping.load(ordering: .relaxed) {
            do {
                guard let frames = try socket.receive(timeout: 0.1), frames.count == 2 else { continue }
                let (peer, data) = (frames[0], frames[1])
                guard !data.isEmpty else {  // a connection opened or closed
                    pending[peer] = nil
                    continue
                }
                var request = pending[peer, default: []] + data
                guard let end = request.firstRange(of: Array("\r\n\r\n".utf8)) ?? request.firstRange(of: Array("\n\n".utf8)) else {
                    if request.count > Self.maxHeaderBytes {
                        try answer(peer, status: "431 Request Header Fields Too Large", text: "request header over 8 KiB\n")
                    } else {
                        pending[peer] = request
                    }
                    continue
                }
                request = Array(request[..<end.lowerBound])
                pending[peer] = nil
                let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
                if line.count >= 2, line[0] != "GET" {
                    try answer(peer, status: "405 Method Not Allowed", text: "only GET\n")
                } else if line.count >= 2, line[1].split(separator: "?").first.map(String.init) == path {
                    try answer(peer, status: "200 OK", text: body.withLock { $0 }, type: contentType)
                } else {
                    try answer(peer, status: "404 Not Found", text: "try GET \(path)\n")
                }
            } catch {
                logger.error("metrics endpoint \(endpoint): \(error)")
            }
        }
        socket.close()
    }

    /// The answer, then an empty frame: libzmq closes that connection.
    private func answer(_ peer: [UInt8], status: String, text: String, type: String = "text/plain; charset=utf-8") throws {
        let payload = Array(text.utf8)
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        try socket.send([peer, Array(head.utf8) + payload])
        try socket.send([peer, []])
    }

    public func stop() {
        stopping.store(true, ordering: .relaxed)
        done.wait()
    }
}
