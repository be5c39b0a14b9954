import ArgumentParser
import Basics
import Datasets
import Foundation
import Transport
import Wire

/// `comcl bench-cropper`: patches per second from real detector/cropper processes over ZeroMQ.
struct BenchCropperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-cropper",
        abstract: "Patches/s of 1..N detector/cropper processes over loopback ZeroMQ, with a cold detection cache (detecting) and a warm one (cutting only).")

    @Option(help: "Dataset folder with labels.csv and images/ (as `comcl synth` writes).") var data: String
    @Option(help: "Replica counts to measure, comma-separated.") var replicas = "1,2"
    @Option(help: "Patch requests per measurement (spread over the dataset's images, all levels).") var patches = 200
    @Option(help: "Items each cropper holds at once (its credit).") var capacity = 2

    func run() throws {
        let folder = URL(fileURLWithPath: data)
        let manifest = try Manifest.load(ManifestOptions(format: .eyeq, labels: folder.appendingPathComponent("labels.csv").path))
        let counts = replicas.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !counts.isEmpty, patches > 0 else { throw ValidationError("--replicas wants positive counts and --patches a positive number") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-bench-cropper-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let requests = (0..<patches).map { i -> PatchRequest in
            let entry = manifest.entries[i % manifest.entries.count]
            return PatchRequest(id: WorkID(run: "bench", step: UInt64(i / manifest.entries.count), item: UInt64(i)), imageID: entry.image,
                                path: entry.image, level: entry.level, seed: 1)
        }
        let images = Set(requests.map(\.path)).count
        print("\(patches) patch requests over \(images) images of \(data); \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("replicas  cache  patches/s  per replica  time per patch  (each run starts its processes first)")
        for count in counts {
            let cache = scratch.appendingPathComponent("cache-\(count)")
            for warm in [false, true] {
                let rate = try measure(requests, replicas: count, dataRoot: manifest.imageRoot, cache: cache.path)
                print(String(count).padded(to: 10) + (warm ? "warm" : "cold").padded(to: 7)
                    + String(format: "%9.1f  %11.1f  %11.1f ms", rate, rate / Double(count), 1000 / rate))
            }
        }
        print("cold: every image detected once (the built-in detector) then cut; warm: detections read from the cache")
    }

    /// Patches per second for one replica count, from the first submission to the last result.
    private func measure(_ requests: [PatchRequest], replicas: Int, dataRoot: String, cache: String) throws -> Double {
        let context = ZMQContext()
        let router = try ZMQRouter(context, bind: "tcp://127.0.0.1:*")
        let endpoint = try router.socket.lastEndpoint
        let distributor = WorkDistributor(
            role: .detectorCropper, name: "bench", endpoint: router,
            config: DistributorConfig(heartbeatInterval: 0.5, liveness: 20, itemTimeout: 120, maxAttempts: 2), logger: quietLogger("comcl.bench"))
        let cluster = try LocalCluster(logDirectory: URL(fileURLWithPath: cache).appendingPathComponent("logs"))
        defer { cluster.killAll() }
        for i in 0..<replicas {
            try cluster.start("cropper-\(i)", executable: "comcl-detector-cropper", arguments: [
                "--coordinator", endpoint, "--data-root", dataRoot, "--cache", cache, "--capacity", String(capacity), "--log-level", "warning",
            ])
        }
        let startup = Date().addingTimeInterval(30)
        while distributor.workerCount < replicas, Date() < startup { _ = try distributor.poll(timeout: 0.05) }
        guard distributor.workerCount == replicas else { throw ValidationError("only \(distributor.workerCount) of \(replicas) croppers said Ready") }
        let start = Date()
        for r in requests { distributor.submit(.patchRequest(r)) }
        var done = 0, failed = 0
        while done + failed < requests.count {
            for event in try distributor.poll(timeout: 0.05) {
                if case .result = event { done += 1 }
                if case .failed(_, let report) = event { failed += 1; FileHandle.standardError.write(Data("failed: \(report.message)\n".utf8)) }
            }
            if let (member, tail) = cluster.crashed() { throw ValidationError("\(member.name) crashed:\n\(tail)") }
        }
        let seconds = Date().timeIntervalSince(start)
        for member in cluster.members { _ = cluster.stop(member, timeout: 10) }
        return Double(done) / seconds
    }
}
