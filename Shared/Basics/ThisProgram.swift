import Foundation

/// Where this program's executable lies: the product's executables are installed side by side
/// (a build folder, /usr/local/bin in the image), so a process finds the others there.
public enum ThisProgram {
    /// The running executable's folder (/proc/self/exe, links resolved).
    public static var directory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// The product's executable `name` beside this one.
    public static func sibling(_ name: String) -> URL { directory.appendingPathComponent(name) }
}
