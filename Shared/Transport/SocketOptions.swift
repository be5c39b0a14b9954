import Wire
import CZeroMQ

/// The socket options the services set deliberately (docs/architecture.md section 4).
public struct SocketOptions: Sendable {
    /// Queue limits in messages. ROUTER drops at its HWM and DEALER blocks, so keep them
    /// well above the credit a worker announces. 1000 is libzmq's default.
    public var sendHighWaterMark: Int32 = 1000
    public var receiveHighWaterMark: Int32 = 1000
    /// How long close() may keep unsent messages: a short bound so a stopping service
    /// still delivers its goodbye but never hangs on a dead peer.
    public var lingerMilliseconds: Int32 = 1000
    /// Larger incoming messages make libzmq drop the connection (docs/architecture.md section 4).
    public var maxMessageBytes: Int64 = Int64(WireLimits.defaultMaxMessageBytes)
    /// ROUTER only: an unroutable send fails loudly instead of being dropped silently.
    public var routerMandatory = true
    /// Routing id announced to a ROUTER (DEALER side); nil lets libzmq pick.
    public var routingID: [UInt8]?
    /// Bounds a blocking send (a DEALER with a full queue) in milliseconds; -1 = forever.
    public var sendTimeoutMilliseconds: Int32 = 5000
    public var curve: CurveRole?

    public init() {}

    func apply(to socket: ZMQSocket) throws {
        try socket.set(ZMQ_SNDHWM, sendHighWaterMark, "SNDHWM")
        try socket.set(ZMQ_RCVHWM, receiveHighWaterMark, "RCVHWM")
        try socket.set(ZMQ_LINGER, lingerMilliseconds, "LINGER")
        try socket.set(ZMQ_MAXMSGSIZE, maxMessageBytes, "MAXMSGSIZE")
        try socket.set(ZMQ_SNDTIMEO, sendTimeoutMilliseconds, "SNDTIMEO")
        if socket.type == .router, routerMandatory { try socket.set(ZMQ_ROUTER_MANDATORY, Int32(1), "ROUTER_MANDATORY") }
        if let routingID { try socket.set(ZMQ_ROUTING_ID, bytes: routingID, "ROUTING_ID") }
        try curve?.apply(to: socket)
    }
}
