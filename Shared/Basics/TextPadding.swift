import Foundation

extension String {
    /// Left-aligned in a column of `width` characters, never cut (Foundation's `%-Ns` does not
    /// pad on Linux).
    public func padded(to width: Int) -> String {
        padding(toLength: Swift.max(width, count), withPad: " ", startingAt: 0)
    }
}
