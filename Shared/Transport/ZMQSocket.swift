import CZeroMQ

public enum SocketType: Sendable {
    case router, dealer, pair, pub, sub, push, pull, req, rep
    /// Raw TCP: [peer id, bytes] per read, an empty frame on connect and disconnect (`HTTPTextEndpoint`).
    case stream

    var raw: Int32 {
        switch self {
        case .router: ZMQ_ROUTER
        case .dealer: ZMQ_DEALER
        case .pair: ZMQ_PAIR
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        case .req: ZMQ_REQ
        case .rep: ZMQ_REP
        case .stream: ZMQ_STREAM
        }
    }
}

/// One libzmq socket. Closed when the object goes away (or by `close()`). Like every
/// libzmq socket it must be used by one thread at a time; it is `@unchecked Sendable`
/// only so that it can be handed to the thread that will own it.
public final class ZMQSocket: @unchecked Sendable {
    public let type: SocketType
    let context: ZMQContext  // keeps the context alive while the socket is open
    private var handle: UnsafeMutableRawPointer?

    public init(_ context: ZMQContext, _ type: SocketType, options: SocketOptions = SocketOptions()) throws {
        guard let handle = zmq_socket(context.handle, type.raw) else { throw ZMQError("zmq_socket(\(type))") }
        self.context = context
        self.type = type
        self.handle = handle
        try options.apply(to: self)
    }

    deinit { close() }

    public func close() {
        if let handle { zmq_close(handle) }
        handle = nil
    }

    var raw: UnsafeMutableRawPointer {
        get throws {
            guard let handle else { throw ZMQError("socket", code: ENOTSOCK) }
            return handle
        }
    }

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(try raw, endpoint) == -1 else { return }
        let code = zmq_errno()
        // The usual cause is a second run on the same ports: say which knob moves it.
        let hint =
            code == EADDRINUSE
            ? " (another run or program on this machine holds the port: start this one on other ports, e.g. --base-port)" : ""
        throw ZMQError("bind \(endpoint)\(hint)", code: code)
    }

    public func connect(_ endpoint: String) throws {
        try check(zmq_connect(raw, endpoint), "connect \(endpoint)")
    }

    /// The endpoint actually bound (resolves `tcp://127.0.0.1:*` to the chosen port).
    public var lastEndpoint: String {
        get throws {
            var buffer = [CChar](repeating: 0, count: 512)
            var size = buffer.count
            try check(zmq_getsockopt(raw, ZMQ_LAST_ENDPOINT, &buffer, &size), "getsockopt LAST_ENDPOINT")
            return String(zeroTerminated: buffer)
        }
    }

    // MARK: options

    func set(_ option: Int32, _ value: Int32, _ name: String) throws {
        var value = value
        try check(zmq_setsockopt(raw, option, &value, MemoryLayout<Int32>.size), "setsockopt \(name)")
    }

    func set(_ option: Int32, _ value: Int64, _ name: String) throws {
        var value = value
        try check(zmq_setsockopt(raw, option, &value, MemoryLayout<Int64>.size), "setsockopt \(name)")
    }

    func set(_ option: Int32, bytes: [UInt8], _ name: String) throws {
        let socket = try raw
        try check(bytes.withUnsafeBytes { zmq_setsockopt(socket, option, $0.baseAddress, $0.count) }, "setsockopt \(name)")
    }

    // MARK: messages

    /// Sends one multipart message. Throws on failure; with `dontWait`, a full queue
    /// throws a `wouldBlock` error instead of blocking.
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws {
        let socket = try raw
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            let sent = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
            try check(sent, "send")
        }
    }

    /// Receives one multipart message, or nil when nothing arrives within `timeout`
    /// seconds (nil timeout = wait forever, 0 = do not wait).
    public func receive(timeout: Double?) throws -> [[UInt8]]? {
        // A zero timeout asks libzmq directly (DONTWAIT) rather than polling first: a poll is a
        // system call per message, and the coordinator drains a few hundred messages a step.
        if let timeout, timeout > 0, try !Poller.wait(for: [self], timeout: timeout)[0] { return nil }
        let socket = try raw
        var frames: [[UInt8]] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        if timeout == 0 {
            if zmq_msg_recv(&message, socket, ZMQ_DONTWAIT) == -1 {
                if zmq_errno() == EAGAIN || zmq_errno() == EINTR { return nil }
                throw ZMQError("receive")
            }
            frames.append(Self.bytes(&message))
            guard zmq_msg_more(&message) != 0 else { return frames }
        }
        repeat {
            try check(zmq_msg_recv(&message, socket, 0), "receive")
            frames.append(Self.bytes(&message))
        } while zmq_msg_more(&message) != 0
        return frames
    }

    private static func bytes(_ message: inout zmq_msg_t) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: zmq_msg_size(&message)))
    }
}

/// Waits on several sockets (and plain file descriptors) at once.
public enum Poller {
    /// Returns, per socket then per descriptor, whether it is readable. `timeout` in
    /// seconds; nil waits forever. An interrupted wait (a signal) reports nothing readable.
    public static func wait(for sockets: [ZMQSocket], fileDescriptors: [Int32] = [], timeout: Double?) throws -> [Bool] {
        var items = try sockets.map { try zmq_pollitem_t(socket: $0.raw, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        items += fileDescriptors.map { zmq_pollitem_t(socket: nil, fd: $0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let milliseconds = timeout.map { Int($0 * 1000) } ?? -1
        let result = zmq_poll(&items, Int32(items.count), milliseconds)
        if result == -1 {
            if zmq_errno() == EINTR { return Array(repeating: false, count: items.count) }
            throw ZMQError("zmq_poll")
        }
        return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
    }
}

extension String {
    /// Text of a C buffer up to its first NUL.
    init(zeroTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
