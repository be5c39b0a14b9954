import Datasets
import Foundation
import Synthetic
import TestSupport
import Testing
import Transport
import Wire

/// The detector/cropper as deployed: real `comcl-detector-cropper` processes on real ZeroMQ
/// sockets, cutting patches from real PNG files of a synthetic set.
@Suite(.serialized) struct CropperServiceTests {
    let context = ZMQContext()
    let root: URL
    let manifest: Manifest

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-cropper-\(UUID().uuidString)")
        var config = SyntheticDataset.Config(count: 8)
        (config.size, config.seed, config.gradeShares) = (256, 5, [0.5, 0, 0, 0.5, 0])
        try SyntheticDataset(config).write(to: root.appendingPathComponent("data"), threads: 2)
        manifest = try Manifest.load(ManifestOptions(format: .eyeq, labels: root.appendingPathComponent("data/labels.csv").path))
    }

    func croppers(_ count: Int, endpoint: String, extra: [String] = []) throws -> [ChildProcess] {
        try (0..<count).map { i in
            try ChildProcess(
                "comcl-detector-cropper",
                [
                    "--coordinator", endpoint, "--worker-id", "cropper-\(i)", "--heartbeat", "0.2", "--data-root",
                    root.appendingPathComponent("data/images").path, "--cache", root.appendingPathComponent("cache").path,
                ] + extra,
                name: "cropper-\(i)")
        }
    }

    func requests(_ run: String) -> [PatchRequest] {
        manifest.entries.enumerated().flatMap { index, entry in
            (0..<2).map { k in
                PatchRequest(
                    id: WorkID(run: run, step: 1, item: UInt64(2 * index + k)), imageID: entry.image, path: entry.image,
                    level: entry.level, seed: 42)
            }
        }
    }

    /// Runs `requests` through `replicas` croppers; returns the results by item. A patch kept at
    /// a cropper's data endpoint is fetched from there as it is announced (as an augmenter would)
    /// and returned as the `Patch` it is.
    func cut(_ requests: [PatchRequest], replicas: Int, extra: [String] = []) throws -> [UInt64: Body] {
        let client = DataClient(context, name: "test-augmenter", timeout: 5)
        let router = try ZMQRouter(context, bind: "tcp://127.0.0.1:*")
        let endpoint = try router.socket.lastEndpoint
        let distributor = WorkDistributor(
            role: .detectorCropper, name: "test", endpoint: router,
            config: DistributorConfig(heartbeatInterval: 0.2, liveness: 10, itemTimeout: 60, maxAttempts: 2))
        let workers = try croppers(replicas, endpoint: endpoint, extra: extra)
        defer { for w in workers { w.signal(SIGTERM); _ = w.wait(timeout: 10) } }
        for r in requests { distributor.submit(.patchRequest(r)) }
        var results: [UInt64: Body] = [:]
        let deadline = Date().addingTimeInterval(120)
        while results.count < requests.count, Date() < deadline {
            for event in try distributor.poll(timeout: 0.05) {
                switch event {
                case .result(let id, .patchStored(let stored), _):
                    results[id.item] = try client.fetchPatches([stored.endpoint: [id]])[id].map { .patch($0) } ?? .patchStored(stored)
                case .result(let id, let body, _): results[id.item] = body
                case .failed(let id, let report): results[id.item] = .error(report)
                default: break
                }
            }
        }
        #expect(results.count == requests.count, "\(workers.map(\.output))")
        return results
    }

    @Test func patchesAreTheSameWithOneOrTwoReplicas() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let requests = requests("r")
        let one = try cut(requests, replicas: 1)
        let two = try cut(requests, replicas: 2)
        let inline = try cut(requests, replicas: 1, extra: ["--data-endpoint", "off"])  // patches back in the answer
        #expect(one == two)
        #expect(one == inline)
        let truth = try LesionBoxFile.read(root.appendingPathComponent("data/lesions.csv").path)
        var fromDetection = 0
        for request in requests {
            guard case .patch(let patch) = one[request.id.item] else {
                Issue.record("item \(request.id.item): \(String(describing: one[request.id.item]))"); continue
            }
            #expect(patch.pixels.shape == [128, 128, 3] && patch.level == request.level && patch.id == request.id)
            let p = patch.provenance
            #expect(p.imagePath == request.path && p.imageWidth == 256)
            if request.level == .healthyHigh || request.level == .healthyLow { #expect(!p.fromDetection) }
            if p.fromDetection {
                fromDetection += 1
                // An Omega window around a detection: on a grade-3 image it should hold a true lesion.
                let w = p.window
                let holds = (truth[request.path] ?? []).contains { b in
                    b.x + b.width / 2 >= Double(w.x) && b.x + b.width / 2 <= Double(w.x + w.w) && b.y + b.height / 2 >= Double(w.y)
                        && b.y + b.height / 2 <= Double(w.y + w.h)
                }
                #expect(holds)
            }
        }
        #expect(fromDetection >= 4, "lesion images should mostly give Omega patches")
        // Detections were cached once per image (by content) for the built-in detector.
        let cached = try FileManager.default.subpathsOfDirectory(atPath: root.appendingPathComponent("cache").path).filter {
            $0.hasSuffix(".json")
        }
        #expect(cached.count == manifest.entries.filter(\.lesion).count)
    }

    @Test func boxesFileDetectorAndBadRequests() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        // Ground truth as an outside tool's boxes: every lesion patch is cut around a true lesion.
        var requests = requests("b").filter { $0.level == .lesionHigh || $0.level == .lesionLow }
        let good = requests.count
        try Data("not a png".utf8).write(to: root.appendingPathComponent("data/images/corrupt.png"))
        requests.append(
            PatchRequest(id: WorkID(run: "b", step: 2, item: 1000), imageID: "gone", path: "gone.png", level: .lesionHigh, seed: 1))
        requests.append(
            PatchRequest(id: WorkID(run: "b", step: 2, item: 1001), imageID: "bad", path: "corrupt.png", level: .healthyHigh, seed: 1))
        let results = try cut(
            requests, replicas: 1, extra: ["--detector", "boxes:\(root.appendingPathComponent("data/lesions.csv").path)"])
        for request in requests.prefix(good) {
            guard case .patch(let patch) = results[request.id.item] else { Issue.record("no patch for \(request.id)"); continue }
            #expect(patch.provenance.fromDetection && patch.provenance.detector.hasPrefix("boxes-file lesions.csv"))
        }
        guard case .error(let missing) = results[1000], case .error(let corrupt) = results[1001] else {
            Issue.record("bad requests should fail: \(String(describing: results[1000])), \(String(describing: results[1001]))")
            return
        }
        #expect(missing.code == .notFound && missing.message.contains("gone.png"))
        #expect(corrupt.code == .badInput && corrupt.message.contains("corrupt.png"))
    }

    /// A detection cache that cannot be written (here a path under a regular file; read-only
    /// mounts fail the same way) costs speed, not the run: every patch still comes, and the
    /// cropper says once that it goes on without caching.
    @Test func unwritableDetectionCacheIsWorkedAround() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let blocker = root.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: blocker)
        let requests = requests("c").filter { $0.level == .lesionHigh || $0.level == .lesionLow }
        let router = try ZMQRouter(context, bind: "tcp://127.0.0.1:*")
        let distributor = WorkDistributor(
            role: .detectorCropper, name: "test", endpoint: router,
            config: DistributorConfig(heartbeatInterval: 0.2, liveness: 10, itemTimeout: 60, maxAttempts: 2))
        let worker = try croppers(
            1, endpoint: try router.socket.lastEndpoint, extra: ["--cache", blocker.appendingPathComponent("cache").path])[0]
        for r in requests { distributor.submit(.patchRequest(r)) }
        var patches = 0
        let deadline = Date().addingTimeInterval(120)
        while patches < requests.count, Date() < deadline {
            for case .result(_, let body, _) in try distributor.poll(timeout: 0.05) {
                switch body {
                case .patch, .patchStored: patches += 1
                default: break
                }
            }
        }
        worker.signal(SIGTERM)
        _ = worker.wait(timeout: 10)
        #expect(patches == requests.count, "\(worker.output)")
        #expect(worker.output.components(separatedBy: "cannot write the detection cache").count == 2, "said once: \(worker.output)")
    }
}
