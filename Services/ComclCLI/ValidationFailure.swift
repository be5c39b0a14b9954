/// An error raised while a command runs, in one sentence: printed without the usage banner.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
