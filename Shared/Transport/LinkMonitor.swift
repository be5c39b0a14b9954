import CZeroMQ
import Foundation
import Logging
import Synchronization

/// Logs what libzmq does to a listening socket's connections, which it otherwise does in
/// silence: a peer that sends a frame over the link's limit (ZMQ_MAXMSGSIZE) or breaks the ZMTP
/// framing is disconnected inside libzmq, and the socket's owner never sees a message or an
/// error. A socket monitor (zmq_socket_monitor) reports each connection accepted, each one
/// closed and each failed handshake; its own thread reads the reports and logs them.
///
/// libzmq 4.3's monitor events do not say why a connection closed, nor which peer a failed
/// handshake came from (only the bound endpoint), so the lines give what is known: the peer's
/// address and the causes a close can have. The address is read (getpeername) when this thread
/// sees the accept, which is after libzmq made it: a connection already closed by then is named
/// by its descriptor, or, if a newer connection took that descriptor, by the newer one's address.
/// A host that keeps reconnecting (a refused CURVE client retries every 100 ms) has its lines
/// rationed (`LogBudget`).
public final class LinkMonitor: Sendable {
    private let watcher: Watcher

    /// Starts watching `socket`, which must be the caller's (the owner's thread sets up the
    /// monitor) and bound already. `link` names it in the log lines; `limit` is the message
    /// limit to cite when a connection closes; `closes` is the level of those lines (a link whose
    /// clients connect per request, such as healthchecks, would fill the log at notice).
    public init(socket: ZMQSocket, link: String, limit: Int64, closes: Logger.Level = .notice, logger: Logger) throws {
        let endpoint = "inproc://comcl-monitor-\(Self.counter.add(1, ordering: .relaxed).newValue)"
        let events =
            ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_ACCEPT_FAILED
            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
        try check(zmq_socket_monitor(try socket.raw, endpoint, events), "zmq_socket_monitor \(link)")
        let reader = try ZMQSocket(socket.context, .pair)
        try reader.connect(endpoint)
        watcher = Watcher(reader: reader, link: link, limit: limit, closes: closes, logger: logger)
        let thread = Thread { [watcher] in watcher.watch() }
        thread.name = "link-monitor"
        thread.start()
    }

    deinit { stop() }

    /// Stops reading and closes the reader socket (before its context terminates).
    public func stop() { watcher.stop() }

    private static let counter = Atomic<Int>(0)

    /// The thread's side: the reader socket and what it has seen.
    private final class Watcher: @unchecked Sendable {
        let reader: ZMQSocket
        let link: String
        let limit: Int64
        let closes: Logger.Level
        let logger: Logger
        private let stopping = Atomic<Bool>(false)
        private let finished = DispatchSemaphore(value: 0)
        // Only the monitor's thread uses these.
        /// The peer address of each open connection, by descriptor.
        private var peers: [Int32: String] = [:]
        /// Lines per peer host (closes) or per kind of failure (handshakes).
        private var budget = LogBudget()
        private let clock = SystemTime()

        init(reader: ZMQSocket, link: String, limit: Int64, closes: Logger.Level, logger: Logger) {
            (self.reader, self.link, self.limit, self.closes, self.logger) = (reader, link, limit, closes, logger)
        }

        func stop() {
            guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
            finished.wait()
            reader.close()
        }

        func watch() {
            while !stopping.load(ordering: .acquiring) {
                guard let frames = try? reader.receive(timeout: 0.1), let event = Event(frames) else { continue }
                report(event)
            }
            finished.signal()
        }

        func report(_ event: Event) {
            switch event.kind {
            case ZMQ_EVENT_ACCEPTED:
                let peer = Self.peerAddress(of: Int32(bitPattern: event.value)) ?? "descriptor \(event.value)"
                peers[Int32(bitPattern: event.value)] = peer
                logger.debug("\(link): connection from \(peer) accepted")
            case ZMQ_EVENT_DISCONNECTED:
                let peer = peers.removeValue(forKey: Int32(bitPattern: event.value)) ?? "descriptor \(event.value)"
                let host = peer.split(separator: ":").dropLast().joined(separator: ":")
                if let held = budget.admit(host.isEmpty ? peer : host, now: clock.now()) {
                    logger.log(
                        level: closes,
                        "\(link): connection from \(peer) closed: the peer left, or libzmq cut it for a frame over \(limit) bytes (--max-message-bytes), broken ZMTP framing or a failed handshake\(LogBudget.suffix(held))"
                    )
                }
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH,
                ZMQ_EVENT_ACCEPT_FAILED:
                let why = Self.describe(event)
                if let held = budget.admit(why, now: clock.now()) { logger.warning("\(link): \(why)\(LogBudget.suffix(held))") }
            default:
                break
            }
        }

        static func describe(_ event: Event) -> String {
            switch event.kind {
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: "a handshake was refused by the authenticator (ZAP status \(event.value))"
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: "a handshake failed: \(protocolError(event.value))"
            case ZMQ_EVENT_ACCEPT_FAILED: "accepting a connection failed: \(String(cString: strerror(Int32(bitPattern: event.value))))"
            default: "a handshake failed: \(String(cString: strerror(Int32(bitPattern: event.value))))"
            }
        }

        /// libzmq's ZMQ_PROTOCOL_ERROR_* codes (zmq.h): ZMTP framing (0x1000...), ZMTP commands
        /// (0x1100...) and mechanisms such as CURVE (0x1120...), ZAP replies (0x2000...), WebSocket.
        static func protocolError(_ code: UInt32) -> String {
            let names: [UInt32: String] = [
                0x1000_0000: "unspecified ZMTP error", 0x1000_0001: "unexpected command", 0x1000_0002: "invalid sequence",
                0x1000_0003: "key exchange failed", 0x1000_0011: "malformed command", 0x1000_0012: "malformed HELLO",
                0x1000_0013: "malformed INITIATE", 0x1000_0014: "malformed ERROR", 0x1000_0015: "malformed READY",
                0x1000_0016: "malformed WELCOME", 0x1000_0017: "invalid metadata", 0x1100_0001: "cryptographic error",
                0x1100_0002: "mechanism mismatch (one side uses CURVE, the other not)",
                0x2000_0000: "unspecified ZAP error", 0x2000_0001: "malformed ZAP reply",
            ]
            return names[code] ?? "ZMTP protocol error 0x\(String(code, radix: 16))"
        }

        /// "host:port" of the remote end of a connected TCP descriptor; nil for IPC and
        /// for a descriptor closed before its report was read.
        static func peerAddress(of descriptor: Int32) -> String? {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let got = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(descriptor, $0, &length) }
            }
            guard got == 0 else { return nil }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST)), port = [CChar](repeating: 0, count: Int(NI_MAXSERV))
            let named = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    getnameinfo($0, length, &host, socklen_t(host.count), &port, socklen_t(port.count), NI_NUMERICHOST | NI_NUMERICSERV)
                }
            }
            guard named == 0 else { return nil }
            return "\(String(zeroTerminated: host)):\(String(zeroTerminated: port))"
        }
    }

    /// A monitor report: frame 1 is a 16-bit event and a 32-bit value (host byte order), frame 2
    /// the endpoint (zmq_socket_monitor(3)).
    struct Event {
        var kind: Int32
        var value: UInt32

        init?(_ frames: [[UInt8]]) {
            guard frames.count == 2, frames[0].count == 6 else { return nil }
            kind = Int32(frames[0].withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) })
            value = frames[0].withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt32.self) }
        }
    }
}
