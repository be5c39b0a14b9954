import Augmentation
import ArgumentParser
import Basics
import Foundation
import Transport
import Wire

/// `comcl bench augmenter`: how augmentation scales out. Measures, side by side in one run, the
/// compute per item in this process, the messaging per item (encode, send, receive, decode both
/// ways over loopback TCP, no compute), and patches/s of 1..N real `comcl-augmenter` processes.
struct BenchAugmenterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augmenter",
        abstract: "Patches/s of 1..N augmenter processes over loopback ZeroMQ, per-replica efficiency, and the message overhead per item.")

    @Option(help: "Replica counts to measure, comma-separated.") var replicas = "1,2"
    @Option(help: "Patches per measurement.") var patches = 400
    @Option(help: "Items each augmenter holds at once (its credit).") var capacity = 2
    @Option(help: "Recipe: a preset (\(Recipe.presetNames)) or a JSON file.") var recipe = "prior-work"
    @Option(help: "Synthetic 512-px images the patches are cut from (rendered first, about 0.1 s each).") var images = 16
    @Option(help: "Seed of the synthetic patches and the views.") var seed: UInt64 = 1

    func run() throws {
        let counts = replicas.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !counts.isEmpty, patches > 0, images > 0 else {
            throw ValidationError("--replicas wants positive counts, --patches and --images positive numbers")
        }
        let recipeText: String
        do { recipeText = try Recipe.load(recipe).json() } catch { throw ValidationError("--recipe: \(error)") }
        let requests = try SamplePatches.requests(count: patches, images: images, seed: seed, recipe: recipeText)
        print(
            "\(patches) patches (128 px, \(images) synthetic images, 4 levels), recipe \(recipe); \(ProcessInfo.processInfo.activeProcessorCount) cores"
        )

        let augmenter = Augmenter()
        let replies = try requests.prefix(64).map { try augmenter.handle($0) }
        let compute = try timePerItem(requests) { _ = try augmenter.handle($0) }
        let messaging = try messagingTimePerItem(requests.prefix(200), replies: replies)
        let share = messaging / (messaging + compute)
        print(String(format: "compute in-process   %7.2f ms per item (two views)", compute * 1000))
        print(
            String(
                format: "messaging            %7.2f ms per item (request %d kB, reply %d kB, both ways over loopback TCP)",
                messaging * 1000,
                Envelope(sender: "b", body: .augmentRequest(requests[0])).encoded().count / 1000,
                Envelope(sender: "b", body: .viewPair(replies[0])).encoded().count / 1000))
        print(String(format: "message overhead     %7.1f %% of the time per item", share * 100))
        print("replicas  patches/s  per replica  efficiency  time per patch")
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-bench-augmenter-\(getpid())")
        defer { try? FileManager.default.removeItem(at: logs) }
        let bench = ReplicaThroughput(
            role: .augmenter, executable: "comcl-augmenter", arguments: ["--capacity", String(capacity)], logDirectory: logs)
        var single: Double?
        for count in counts {
            let rate = try bench.measure(requests.map { .augmentRequest($0) }, replicas: count)
            single = single ?? (count == 1 ? rate : nil)
            let efficiency = single.map { String(format: "%9.0f %%", 100 * rate / (Double(count) * $0)) } ?? "        -"
            print(
                String(count).padded(to: 10) + String(format: "%9.1f  %11.1f  ", rate, rate / Double(count)) + efficiency
                    + String(format: "  %9.2f ms", 1000 / rate))
        }
        print("efficiency: patches/s per replica relative to one replica; the machine's cores bound it")
    }

    /// Seconds per item of `body` over all requests, after one warm-up pass over a few.
    private func timePerItem(_ requests: [AugmentRequest], _ body: (AugmentRequest) throws -> Void) throws -> Double {
        for r in requests.prefix(8) { try body(r) }
        let start = Date()
        for r in requests { try body(r) }
        return Date().timeIntervalSince(start) / Double(requests.count)
    }

    /// Round trips of real messages between a DEALER and a ROUTER in this process: the request
    /// encoded, sent, received and decoded, then the reply the same way back.
    private func messagingTimePerItem(_ requests: ArraySlice<AugmentRequest>, replies: [ViewPair]) throws -> Double {
        let context = ZMQContext()
        let router = try ZMQRouter(context, bind: "tcp://127.0.0.1:*")
        let dealer = try ZMQDealer(context, connect: try router.socket.lastEndpoint)
        return try timePerItem(Array(requests)) { request in
            try dealer.send(Envelope(sender: "coordinator", body: .augmentRequest(request)).encoded())
            guard let message = try router.receive(timeout: 5) else { throw ValidationError("loopback message lost") }
            _ = try Envelope.decode(message.frames[0])
            let reply = replies[Int(request.id.item) % replies.count]
            try router.send(Envelope(sender: "augmenter", body: .viewPair(reply)).encoded(), to: message.peer)
            guard let frames = try dealer.receive(timeout: 5) else { throw ValidationError("loopback reply lost") }
            _ = try Envelope.decode(frames[0])
        }
    }
}
