import Glibc

/// An in-memory stand-in for a ROUTER and its DEALER peers, for unit tests of protocol
/// logic without sockets (the same scenarios also run over real ZeroMQ between processes).
/// Nothing blocks: `receive` returns what is queued or nil at once.
public final class InMemoryNetwork: RouterEndpoint {
    private var toRouter: [RoutedMessage] = []
    private var toPeer: [PeerID: [[UInt8]]] = [:]
    private var connected: Set<PeerID> = []
    private var messageCount: [PeerID: Int] = [:]

    public init() {}

    // Router side.
    public func receive(timeout: Double) throws -> RoutedMessage? {
        toRouter.isEmpty ? nil : toRouter.removeFirst()
    }

    /// A message of several frames (a batch) is queued frame by frame; `messages(to:)` counts messages.
    public func send(frames: [[UInt8]], to peer: PeerID) throws {
        guard connected.contains(peer) else { throw ZMQError("send", code: EHOSTUNREACH) }
        toPeer[peer, default: []] += frames
        messageCount[peer, default: 0] += 1
    }

    /// Messages sent to `peer` so far.
    public func messages(to peer: PeerID) -> Int { messageCount[peer] ?? 0 }

    // Peer side (what a test plays).
    public func connect(_ peer: PeerID) { connected.insert(peer) }

    /// The peer vanishes: messages to it fail as unroutable, its inbox is dropped.
    public func disconnect(_ peer: PeerID) {
        connected.remove(peer)
        toPeer[peer] = nil
    }

    public func deliver(from peer: PeerID, frames: [[UInt8]]) { toRouter.append(RoutedMessage(peer: peer, frames: frames)) }

    /// Everything sent to `peer` since the last call.
    public func drain(_ peer: PeerID) -> [[UInt8]] {
        defer { toPeer[peer] = [] }
        return toPeer[peer] ?? []
    }
}
