import Basics
import Foundation
import Glibc

/// Checks on a folder a command will write, made before it writes anything.
public enum RunFolder {
    /// Throws one sentence when `folder` (or, if it does not exist yet, the nearest folder above
    /// it that does) cannot be written: a read-only mount would otherwise surface as a raw
    /// Foundation error after the services started.
    public static func requireWritable(_ folder: URL, option: String = "--run-folder") throws {
        var probe = folder.standardizedFileURL
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: probe.path, isDirectory: &isDirectory) {
            let parent = probe.deletingLastPathComponent()
            guard parent.path != probe.path else { break }
            probe = parent
        }
        guard isDirectory.boolValue else {
            throw Problem("\(option) \(folder.path): \(probe.path) is a file, not a folder")
        }
        guard access(probe.path, W_OK | X_OK) == 0 else {
            throw Problem(
                "\(option) \(folder.path): \(probe.path) is not writable (\(String(cString: strerror(errno)))); give a folder you can write"
            )
        }
    }
}
