import Logging

/// A ROUTER's name for a connected peer (its routing id).
public typealias PeerID = [UInt8]

/// A message as a ROUTER receives it: who sent it and the frames after the routing id.
public struct RoutedMessage: Sendable {
    public var peer: PeerID
    public var frames: [[UInt8]]

    public init(peer: PeerID, frames: [[UInt8]]) {
        self.peer = peer
        self.frames = frames
    }
}

/// The coordinator side of a work link. Real: `ZMQRouter`; tests: `InMemoryNetwork`.
public protocol RouterEndpoint: AnyObject {
    /// One message, or nil if none arrives within `timeout` seconds (0 = do not wait).
    func receive(timeout: Double) throws -> RoutedMessage?
    /// One message of these frames. Throws `ZMQError` with `isUnroutable` when the peer is gone.
    func send(frames: [[UInt8]], to peer: PeerID) throws
}

extension RouterEndpoint {
    /// A message of one frame.
    public func send(_ payload: [UInt8], to peer: PeerID) throws { try send(frames: [payload], to: peer) }
}

/// A ROUTER socket, bound, with ROUTER_MANDATORY on.
public final class ZMQRouter: RouterEndpoint {
    public let socket: ZMQSocket
    private let maxMessageBytes: Int64
    private var monitor: LinkMonitor?

    public init(_ context: ZMQContext, bind endpoint: String, options: SocketOptions = SocketOptions()) throws {
        socket = try ZMQSocket(context, .router, options: options)
        maxMessageBytes = options.maxMessageBytes
        try socket.bind(endpoint)
    }

    /// Logs, as `link`, each connection libzmq accepts, closes (at `closes`) or refuses on this
    /// socket (`LinkMonitor`): libzmq cuts a peer that sends an oversized or broken frame without a word.
    public func monitor(as link: String, closes: Logger.Level = .notice, logger: Logger) throws {
        monitor = try LinkMonitor(socket: socket, link: link, limit: maxMessageBytes, closes: closes, logger: logger)
    }

    public func receive(timeout: Double) throws -> RoutedMessage? {
        guard let frames = try socket.receive(timeout: timeout), let peer = frames.first else { return nil }
        return RoutedMessage(peer: peer, frames: Array(frames.dropFirst()))
    }

    public func send(frames: [[UInt8]], to peer: PeerID) throws {
        try socket.send([peer] + frames)
    }
}

/// A DEALER socket connected to a router.
public final class ZMQDealer {
    public let socket: ZMQSocket

    public init(_ context: ZMQContext, connect endpoint: String, options: SocketOptions = SocketOptions()) throws {
        socket = try ZMQSocket(context, .dealer, options: options)
        try socket.connect(endpoint)
    }

    public func send(_ payload: [UInt8]) throws { try socket.send([payload]) }

    /// One message of these frames (a batch: one envelope each).
    public func send(frames: [[UInt8]]) throws { try socket.send(frames) }

    public func receive(timeout: Double) throws -> [[UInt8]]? { try socket.receive(timeout: timeout) }
}
