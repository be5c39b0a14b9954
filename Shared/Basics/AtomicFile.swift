import Foundation

/// Writes a file so that a reader sees the old version or the new one, never half of either: a
/// temporary file in the same directory, fsync, rename over the target, fsync the directory.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String, reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        func fail(_ what: String) -> WriteError { WriteError(path: url.path, reason: "\(what): \(String(cString: strerror(errno)))") }
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("open \(temporary.lastPathComponent)") }
        var ok = false
        defer { if !ok { unlink(temporary.path) } }
        let written = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        guard written, fsync(fd) == 0 else { let e = fail("write"); close(fd); throw e }
        guard close(fd) == 0 else { throw fail("close") }
        guard rename(temporary.path, url.path) == 0 else { throw fail("rename") }
        ok = true
        syncDirectory(directory)
    }

    /// Makes a rename durable (best effort: some file systems refuse fsync on directories).
    public static func syncDirectory(_ directory: URL) {
        let dfd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}
