import Foundation

/// Label files name images relative to an images folder; the services read images only under
/// that folder (their data root) and refuse `..` and absolute paths on the wire. So a path that
/// climbs out with `..` or is absolute is rewritten here, once, to the plain relative path of the
/// same file, or refused in one sentence if it lies outside the folder.
public enum ImagePath {
    /// Why a path has no place under the images folder.
    public struct Outside: Error, CustomStringConvertible {
        public let description: String
    }

    /// The path of `path` relative to `root`; throws when it lies outside.
    public static func relative(_ path: String, root: String) throws(Outside) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if !path.hasPrefix("/"), !parts.contains(".."), !parts.contains("."), !parts.contains("") { return path }
        let rootPath = URL(fileURLWithPath: root).standardizedFileURL.path
        let full = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: root).appendingPathComponent(path)
        let resolved = full.standardizedFileURL.path
        let prefix = rootPath.hasSuffix("/") ? rootPath : rootPath + "/"
        guard resolved.hasPrefix(prefix), resolved.count > prefix.count else {
            throw Outside(
                description:
                    "image \(path) lies outside the images folder \(rootPath), and the services read only under it: give --images a folder that holds every image"
            )
        }
        return String(resolved.dropFirst(prefix.count))
    }
}
