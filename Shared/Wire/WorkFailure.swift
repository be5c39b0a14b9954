/// An error a work handler throws to choose the code the router sees: `badInput` and `notFound`
/// fail the item at once, other codes let the router retry elsewhere. Any error type may conform;
/// one that does not counts as `internalError`.
public protocol WorkError: Error {
    var code: ErrorCode { get }
    /// The data endpoint that did not answer, when that is why the work failed ("" otherwise):
    /// the coordinator re-makes what was kept there.
    var dataEndpoint: String { get }
}

extension WorkError {
    public var dataEndpoint: String { "" }
}

/// The one failure every service's work throws: a protocol error code and one sentence.
public struct WorkFailure: WorkError, CustomStringConvertible, Equatable {
    public let code: ErrorCode
    public let description: String
    public let dataEndpoint: String

    public init(code: ErrorCode, _ description: String, dataEndpoint: String = "") {
        (self.code, self.description, self.dataEndpoint) = (code, description, dataEndpoint)
    }
}
