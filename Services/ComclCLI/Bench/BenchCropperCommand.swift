import ArgumentParser
import Basics
import Datasets
import Foundation
import Transport
import Wire

/// `comcl bench cropper`: patches per second from real detector/cropper processes over ZeroMQ.
struct BenchCropperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cropper",
        abstract:
            "Patches/s of 1..N detector/cropper processes over loopback ZeroMQ, with a cold detection cache (detecting) and a warm one (cutting only)."
    )

    @Option(help: "Dataset folder with labels.csv and images/ (as `comcl synth` writes).") var data: String
    @Option(help: "Replica counts to measure, comma-separated.") var replicas = "1,2"
    @Option(help: "Patch requests per measurement (spread over the dataset's images, all levels).") var patches = 200
    @Option(help: "Items each cropper holds at once (its credit).") var capacity = 2

    func run() throws {
        let folder = URL(fileURLWithPath: data)
        let manifest = try Manifest.load(ManifestOptions(format: .eyeq, labels: folder.appendingPathComponent("labels.csv").path))
        let counts = replicas.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !counts.isEmpty, patches > 0 else {
            throw ValidationError("--replicas wants positive counts and --patches a positive number")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-bench-cropper-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let requests = (0..<patches).map { i -> PatchRequest in
            let entry = manifest.entries[i % manifest.entries.count]
            return PatchRequest(
                id: WorkID(run: "bench", step: UInt64(i / manifest.entries.count), item: UInt64(i)), imageID: entry.image,
                path: entry.image, level: entry.level, seed: 1)
        }
        let images = Set(requests.map(\.path)).count
        print("\(patches) patch requests over \(images) images of \(data); \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("replicas  cache  patches/s  per replica  time per patch  (each run starts its processes first)")
        for count in counts {
            let cache = scratch.appendingPathComponent("cache-\(count)")
            for warm in [false, true] {
                let bench = ReplicaThroughput(
                    role: .detectorCropper, executable: "comcl-detector-cropper",
                    arguments: ["--data-root", manifest.imageRoot, "--cache", cache.path, "--capacity", String(capacity)], itemTimeout: 120,
                    logDirectory: cache.appendingPathComponent("logs"))
                let rate = try bench.measure(requests.map { .patchRequest($0) }, replicas: count)
                print(
                    String(count).padded(to: 10) + (warm ? "warm" : "cold").padded(to: 7)
                        + String(format: "%9.1f  %11.1f  %11.1f ms", rate, rate / Double(count), 1000 / rate))
            }
        }
        print("cold: every image detected once (the built-in detector) then cut; warm: detections read from the cache")
    }
}
