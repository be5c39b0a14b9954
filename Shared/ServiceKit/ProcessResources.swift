import Foundation

/// What a running process holds, read from Linux's /proc: resident memory, open file
/// descriptors and threads. The soak (`comcl soak`) samples these for every service over a long
/// run; a leak in any of them shows as growth once the run has warmed up.
public struct ProcessResources: Equatable, Sendable {
    /// Resident set size in KiB (/proc/PID/status VmRSS, which the kernel reports in kB = KiB).
    public var residentKiB: Int
    /// Entries of /proc/PID/fd: files, sockets, pipes, eventfds (libzmq uses one per socket).
    public var openFiles: Int
    /// /proc/PID/status Threads.
    public var threads: Int

    public init(residentKiB: Int, openFiles: Int, threads: Int) {
        (self.residentKiB, self.openFiles, self.threads) = (residentKiB, openFiles, threads)
    }

    public enum SampleError: Error, CustomStringConvertible {
        case gone(Int32)
        case unreadable(String)

        public var description: String {
            switch self {
            case .gone(let pid): "process \(pid) is gone (no /proc/\(pid))"
            case .unreadable(let why): why
            }
        }
    }

    /// Reads `pid`'s figures now. Throws `gone` when the process has exited (or is a zombie:
    /// its status no longer lists VmRSS).
    public static func sample(pid: Int32) throws -> ProcessResources {
        guard let fields = status(pid: pid), let rss = fields["VmRSS"], let threads = fields["Threads"] else { throw SampleError.gone(pid) }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else {
            throw SampleError.unreadable("cannot list /proc/\(pid)/fd (another user's process?)")
        }
        return ProcessResources(residentKiB: rss, openFiles: entries.count, threads: threads)
    }

    /// The numeric fields of /proc/PID/status (VmRSS, VmHWM, Threads...; sizes in KiB), or nil
    /// when the process is gone.
    public static func status(pid: Int32) -> [String: Int]? {
        (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)).map(parseStatus)
    }

    /// The leading number of each "Key:\tvalue [kB]" line of /proc/PID/status.
    static func parseStatus(_ text: String) -> [String: Int] {
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            if let value, let number = Int(value) { fields[String(line[..<colon])] = number }
        }
        return fields
    }
}
