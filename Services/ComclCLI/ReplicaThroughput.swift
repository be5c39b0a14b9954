import ArgumentParser
import Foundation
import Launcher
import Transport
import Wire

/// Items per second of N real worker processes fed by a WorkDistributor over loopback TCP, from
/// the first submission to the last answer (the replica rows of `comcl bench cropper` and `comcl bench augmenter`).
struct ReplicaThroughput {
    var role: Role
    /// The service's executable, beside `comcl`.
    var executable: String
    /// Its arguments besides --coordinator and --log-level.
    var arguments: [String]
    var itemTimeout = 60.0
    /// Where the workers' logs go while they run.
    var logDirectory: URL

    func measure(_ items: [Body], replicas: Int) throws -> Double {
        let context = ZMQContext()
        let router = try ZMQRouter(context, bind: "tcp://127.0.0.1:*")
        let endpoint = try router.socket.lastEndpoint
        let distributor = WorkDistributor(
            role: role, name: "bench", endpoint: router,
            config: DistributorConfig(heartbeatInterval: 0.5, liveness: 20, itemTimeout: itemTimeout, maxAttempts: 2),
            logger: quietLogger("comcl.bench"))
        let cluster = try LocalCluster(logDirectory: logDirectory)
        defer { cluster.killAll() }
        for i in 0..<replicas {
            try cluster.start(
                "\(role)-\(i)", executable: executable, arguments: ["--coordinator", endpoint, "--log-level", "warning"] + arguments)
        }
        let startup = Date().addingTimeInterval(30)
        while distributor.workerCount < replicas, Date() < startup { _ = try distributor.poll(timeout: 0.05) }
        guard distributor.workerCount == replicas else {
            throw ValidationError("only \(distributor.workerCount) of \(replicas) \(executable) processes said Ready")
        }
        let start = Date()
        for item in items { distributor.submit(item) }
        var done = 0, failed = 0
        while done + failed < items.count {
            for event in try distributor.poll(timeout: 0.05) {
                if case .result = event { done += 1 }
                if case .failed(_, let report) = event {
                    failed += 1
                    FileHandle.standardError.write(Data("failed: \(report.message)\n".utf8))
                }
            }
            if let (member, tail) = cluster.crashed() { throw ValidationError("\(member.name) crashed:\n\(tail)") }
        }
        let seconds = Date().timeIntervalSince(start)
        for member in cluster.members { _ = cluster.stop(member, timeout: 10) }
        return Double(done) / seconds
    }
}
