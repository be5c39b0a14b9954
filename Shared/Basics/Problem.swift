/// Something that stops a command or a load, said in one sentence a user can act on: what is
/// wrong and, where it helps, what to do instead. The one error type for problems that need no
/// more structure than their message; errors whose fields a caller reads (a dataset error's file
/// and line, a wire error's field and code) keep their own types.
public struct Problem: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
