import Foundation

/// A built product (an executable beside the test bundle) run as a real child process,
/// its output captured in a temporary log file.
public final class ChildProcess: @unchecked Sendable {
    public let name: String
    public let process = Process()
    public let log: URL

    /// The directory SwiftPM builds products into (the test bundle's own).
    public static var productsDirectory: URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }

    public convenience init(_ product: String, _ arguments: [String], name: String? = nil) throws {
        try self.init(executable: Self.productsDirectory.appendingPathComponent(product), arguments, name: name ?? product)
    }

    /// Any executable (e.g. a Python interpreter), with extra environment variables.
    public init(executable: URL, _ arguments: [String], name: String, environment: [String: String] = [:]) throws {
        self.name = name
        log = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-test-\(self.name)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: log)
    }

    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits up to `timeout` seconds; the exit status, or nil if still running.
    public func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Runs to completion and returns (status, output).
    public static func run(_ product: String, _ arguments: [String], timeout: Double = 60) throws -> (Int32?, String) {
        let child = try ChildProcess(product, arguments)
        let status = child.wait(timeout: timeout)
        return (status, child.output)
    }
}
