import CZeroMQ

/// A failed libzmq call: which operation, on what, and libzmq's reason.
public struct ZMQError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let code: Int32
    public let reason: String

    init(_ operation: String, code: Int32 = zmq_errno()) {
        self.operation = operation
        self.code = code
        self.reason = String(cString: zmq_strerror(code))
    }

    public var description: String { "\(operation): \(reason) (errno \(code))" }

    /// ROUTER_MANDATORY send to a peer that is not (or no longer) connected.
    public var isUnroutable: Bool { code == EHOSTUNREACH }
    /// Non-blocking call that would have blocked, or a timed-out send.
    public var wouldBlock: Bool { code == EAGAIN }
}

/// Throws `ZMQError` when a libzmq call returns -1.
@discardableResult
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    guard result != -1 else { throw ZMQError(operation()) }
    return result
}
