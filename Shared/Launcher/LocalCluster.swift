import Basics
import Foundation
import ServiceKit

/// Starts service executables (siblings of `comcl`) as child processes with their logs
/// in a run directory, and stops them with SIGTERM like a container runtime would; if this
/// command is killed outright, they stop by themselves (LauncherWatch).
public final class LocalCluster {
    public struct Member {
        public let name: String
        public let process: Process
        public let log: URL
        public let executable: String
        public let arguments: [String]
    }

    public let binDirectory: URL
    public let logDirectory: URL
    /// Every process of this launch carries it (RunToken): a worker of another launch that reaches
    /// our coordinator, or ours that reaches another's, is refused instead of serving it.
    public let runToken = RunToken.fresh()
    public private(set) var members: [Member] = []

    public init(logDirectory: URL) throws {
        binDirectory = ThisProgram.directory
        self.logDirectory = logDirectory
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
    }

    @discardableResult
    public func start(_ name: String, executable: String, arguments: [String]) throws -> Member {
        let log = logDirectory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let member = try launch(name, executable: executable, arguments: arguments, log: log)
        members.append(member)
        return member
    }

    /// Starts an exited member again with the same arguments; its log goes on in the same file.
    @discardableResult
    public func restart(_ member: Member) throws -> Member {
        let fresh = try launch(member.name, executable: member.executable, arguments: member.arguments, log: member.log)
        members = members.map { $0.name == member.name ? fresh : $0 }
        return fresh
    }

    private func launch(_ name: String, executable: String, arguments: [String], log: URL) throws -> Member {
        let path = binDirectory.appendingPathComponent(executable)
        guard FileManager.default.isExecutableFile(atPath: path.path) else {
            throw Problem("\(path.path) is missing: build all products first (swift build -c release)")
        }
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        let process = Process()
        process.executableURL = path
        process.arguments = arguments
        // It stops if this command dies without stopping it (SIGKILL): LauncherWatch.
        process.environment = ProcessInfo.processInfo.environment.merging([
            LauncherWatch.variable: "\(getpid())", RunToken.environment: runToken,
        ]) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return Member(name: name, process: process, log: log, executable: executable, arguments: arguments)
    }

    /// SIGTERM, then wait up to `timeout` seconds; SIGKILL if it is still there.
    /// Returns the exit status, or nil if it had to be killed.
    public func stop(_ member: Member, timeout: Double) -> Int32? {
        if member.process.isRunning { member.process.terminate() }
        let deadline = Date().addingTimeInterval(timeout)
        while member.process.isRunning, Date() < deadline { usleep(20_000) }
        guard !member.process.isRunning else {
            kill(member.process.processIdentifier, SIGKILL)
            member.process.waitUntilExit()
            return nil
        }
        return member.process.terminationStatus
    }

    /// Kills whatever is left (on an error path).
    public func killAll() {
        for member in members where member.process.isRunning { kill(member.process.processIdentifier, SIGKILL) }
    }

    /// A member that exited early (of those `counts` accepts), with the tail of its log.
    public func crashed(where counts: (Member) -> Bool = { _ in true }) -> (Member, String)? {
        guard let member = members.first(where: { !$0.process.isRunning && counts($0) }) else { return nil }
        let text = (try? String(contentsOf: member.log, encoding: .utf8)) ?? ""
        return (member, text.split(separator: "\n").suffix(5).joined(separator: "\n"))
    }
}
