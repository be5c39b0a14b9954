import CZeroMQ
import Foundation
import Logging

/// Admits only listed CurveZMQ clients: a ZAP handler (ZeroMQ RFC 27) on the context's
/// `inproc://zeromq.zap.01`, answering each handshake with 200 for a listed client public key and
/// 400 (logged, counted) for any other. It must exist before the server sockets bind, and it
/// serves every CURVE server socket of its context. Its own thread answers, so handshakes never
/// wait on the owner's loop.
public final class CurveAuthenticator: Sendable {
    public var allowed: Set<String> { handler.allowed }
    private let handler: Handler

    /// `allowed`: Z85 public keys (40 characters each).
    public init(context: ZMQContext, allowed: [String], logger: Logger) throws {
        for key in allowed where key.utf8.count != 40 {
            throw ZMQError("allowed CURVE client key \"\(key.prefix(8))...\" is not 40 Z85 characters", code: EINVAL)
        }
        let socket = try ZMQSocket(context, .rep)
        try socket.bind("inproc://zeromq.zap.01")
        handler = Handler(socket: socket, allowed: Set(allowed), logger: logger)
        // The thread holds the handler, not this object, so dropping this object stops it safely.
        let thread = Thread { [handler] in handler.serve() }
        thread.name = "zap"
        thread.start()
    }

    deinit { stop() }

    /// Handshakes refused so far.
    public var refused: Int { handler.refused }

    /// Stops answering and closes the handler socket (before its context terminates).
    public func stop() { handler.stop() }

    /// The thread's side: the socket, the list, the counts.
    private final class Handler: @unchecked Sendable {
        let socket: ZMQSocket
        let allowed: Set<String>
        let logger: Logger
        private let lock = NSLock()
        private var stopping = false
        private var refusedCount = 0
        /// A refused client keeps reconnecting (every 100 ms by default): lines per key are rationed.
        private var budget = LogBudget()
        private let clock = SystemTime()
        private let finished = DispatchSemaphore(value: 0)

        init(socket: ZMQSocket, allowed: Set<String>, logger: Logger) {
            (self.socket, self.allowed, self.logger) = (socket, allowed, logger)
        }

        var refused: Int { lock.withLock { refusedCount } }

        func stop() {
            let first = lock.withLock { () -> Bool in
                defer { stopping = true }
                return !stopping
            }
            guard first else { return }
            finished.wait()
            socket.close()
        }

        func serve() {
            while !lock.withLock({ stopping }) {
                guard let frames = try? socket.receive(timeout: 0.1) else { continue }
                _ = try? socket.send(answer(frames))
            }
            finished.signal()
        }

        /// Request: version, request id, domain, address, identity, mechanism, credentials...
        /// Reply: version, request id, status code, status text, user id, metadata.
        func answer(_ frames: [[UInt8]]) -> [[UInt8]] {
            guard frames.count >= 6, frames[0] == Array("1.0".utf8) else {
                return [
                    Array("1.0".utf8), frames.count > 1 ? frames[1] : [], Array("500".utf8), Array("malformed ZAP request".utf8), [], [],
                ]
            }
            let address = String(decoding: frames[3], as: UTF8.self)
            let mechanism = String(decoding: frames[5], as: UTF8.self)
            var key = ""
            if mechanism == "CURVE", frames.count >= 7, frames[6].count == 32 { key = CurveAuthenticator.z85(frames[6]) }
            let admitted = !key.isEmpty && allowed.contains(key)
            if !admitted {
                let held = lock.withLock { () -> Int? in
                    refusedCount += 1
                    return budget.admit(key, now: clock.now())
                }
                if let held {
                    logger.warning(
                        "refused a \(mechanism) client from \(address): \(key.isEmpty ? "no CURVE key" : "public key \(key) is not listed")\(LogBudget.suffix(held))"
                    )
                }
            }
            return [
                Array("1.0".utf8), frames[1], Array((admitted ? "200" : "400").utf8),
                Array((admitted ? "OK" : "client key not listed").utf8), Array(key.utf8), [],
            ]
        }
    }

    /// A 32-byte key in Z85 (40 characters).
    static func z85(_ bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: 41)
        _ = bytes.withUnsafeBufferPointer { zmq_z85_encode(&text, $0.baseAddress, 32) }
        return String(zeroTerminated: text)
    }
}
