import CZeroMQ

/// A CurveZMQ key pair in Z85 text (40 characters each), as `zmq_curve_keypair` makes.
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String

    public init(publicKey: String, secretKey: String) throws {
        for key in [publicKey, secretKey] where key.utf8.count != 40 {
            throw ZMQError("CURVE key \"\(key.prefix(8))...\" is not 40 Z85 characters", code: EINVAL)
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    public static func generate() throws -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        try check(zmq_curve_keypair(&publicKey, &secretKey), "zmq_curve_keypair (libzmq built without CURVE?)")
        return try CurveKeyPair(publicKey: String(zeroTerminated: publicKey), secretKey: String(zeroTerminated: secretKey))
    }
}

/// Encryption on a socket: the binding side is the server, connecting sides are clients
/// that must know the server's public key. Which clients may connect is decided by a
/// `CurveAuthenticator` (without one, any client that knows the server key gets in).
public enum CurveRole: Sendable {
    case server(CurveKeyPair)
    case client(CurveKeyPair, serverPublicKey: String)

    func apply(to socket: ZMQSocket) throws {
        switch self {
        case .server(let keys):
            try socket.set(ZMQ_CURVE_SERVER, Int32(1), "CURVE_SERVER")
            try socket.set(ZMQ_CURVE_SECRETKEY, bytes: Array(keys.secretKey.utf8), "CURVE_SECRETKEY")
        case .client(let keys, let serverPublicKey):
            try socket.set(ZMQ_CURVE_SERVERKEY, bytes: Array(serverPublicKey.utf8), "CURVE_SERVERKEY")
            try socket.set(ZMQ_CURVE_PUBLICKEY, bytes: Array(keys.publicKey.utf8), "CURVE_PUBLICKEY")
            try socket.set(ZMQ_CURVE_SECRETKEY, bytes: Array(keys.secretKey.utf8), "CURVE_SECRETKEY")
        }
    }
}
