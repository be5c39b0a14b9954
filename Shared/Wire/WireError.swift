/// Why a message could not be decoded or failed validation. Each case names the field
/// (a dotted path such as `patch.pixels.shape`) so the log line says what to fix.
public enum WireError: Error, Equatable, CustomStringConvertible, Sendable {
    case tooLarge(bytes: Int, limit: Int)
    case undecodable(bytes: Int)
    case protocolVersion(peer: UInt32, ours: UInt32)
    case missingBody
    case missingField(String)
    case invalidEnum(field: String, value: Int32)
    case sizeMismatch(field: String, expectedBytes: Int, actualBytes: Int)
    case invalidValue(field: String, reason: String)
    /// A message of `count` frames; ours are one Envelope each. `emptyFirst`: the first frame
    /// is empty, the delimiter a REQ socket adds.
    case frames(count: Int, emptyFirst: Bool)

    public var description: String {
        switch self {
        case let .tooLarge(bytes, limit):
            return "message of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case let .undecodable(bytes):
            return "message of \(bytes) bytes is not a valid comcl.v1.Envelope"
        case let .protocolVersion(peer, ours) where peer == 0:
            return "peer sent no protocol version (not a CoMCL peer?); we speak version \(ours)"
        case let .protocolVersion(peer, ours):
            return "peer speaks protocol version \(peer), we speak version \(ours): upgrade one side"
        case .missingBody:
            return "envelope carries no message (empty, or a kind this version does not know)"
        case let .missingField(field):
            return "required field \(field) is missing"
        case let .invalidEnum(field, value):
            return "field \(field) has unknown enum value \(value)"
        case let .sizeMismatch(field, expected, actual):
            return "field \(field) holds \(actual) bytes but its shape and dtype need \(expected)"
        case let .invalidValue(field, reason):
            return "field \(field) is invalid: \(reason)"
        case let .frames(count, emptyFirst):
            return "expected 1 frame (one Envelope from a DEALER), got \(count)"
                + (emptyFirst ? ": REQ sockets add an empty delimiter, use DEALER" : "")
        }
    }

    /// The code to send back to the peer whose message this was.
    public var code: ErrorCode {
        if case .protocolVersion = self { return .protocolVersion }
        return .malformed
    }
}
