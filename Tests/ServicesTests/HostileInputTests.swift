import Basics
import Foundation
import Testing
import TestSupport
import Transport
import Wire

/// Live services sent bad input on real sockets (issue 8): random bytes, a message cut into
/// several frames, a message cut short, another protocol version, the wrong role, and a frame over
/// the size limit. Each is answered with an error naming the problem (and logged), or, past the
/// size limit, dropped by libzmq before any decoding: the peer is disconnected, and the
/// coordinator's link monitor (or the worker, when its sends fail) logs it. After all of it the
/// service still serves a well-formed peer.
@Suite(.serialized) struct HostileInputTests {
    let context = ZMQContext()

    /// The bad messages, by name; `oversized` is sent separately.
    static func badMessages(_ valid: [UInt8]) -> [(name: String, frames: [[UInt8]])] {
        var rng = SeededGenerator(seed: 8)
        return [
            ("random bytes", [(0..<64).map { _ in UInt8(truncatingIfNeeded: rng.next()) }]),
            ("one message in three frames", [Array(valid.prefix(5)), Array(valid.dropFirst(5).prefix(5)), Array(valid.dropFirst(10))]),
            ("truncated message", [Array(valid.dropLast(3))]),
            ("empty frame", [[]]),
            ("protocol version 1", [Envelope(sender: "old", body: .heartbeat(Heartbeat(sequence: 1, inFlight: 0))).encoded(version: 1)]),
        ]
    }

    /// Undecodable, or (an empty frame, version 1) not our protocol version.
    static let expectedCodes: Set<ErrorCode> = [.malformed, .protocolVersion]

    static func error(in frames: [[UInt8]]?) -> ErrorReport? {
        guard let frames, frames.count == 1, case .error(let report)? = try? Envelope.decode(frames[0]).body else { return nil }
        return report
    }

    @Test func coordinatorAnswersBadInputOnEveryLinkAndStillServes() throws {
        let base = 6520
        // At debug: the control link logs its routine closes there (worker links at notice).
        let coordinator = try ChildProcess(
            "comcl-coordinator", ["--control", "tcp://127.0.0.1:\(base)", "--max-message-bytes", "\(1 << 20)", "--log-level", "debug"],
            name: "coordinator")
        defer { coordinator.signal(SIGTERM); _ = coordinator.wait(timeout: 10) }
        let ready = Envelope(sender: "hostile", body: .ready(Ready(role: .augmenter, workerID: "hostile", capacity: 1, software: "test")))
            .encoded()
        let links = ["control link", "detector-cropper link", "augmenter link", "embedding-worker link", "evaluator link"]
        /// The link monitor's lines about closed connections on `link`, once there are `count`
        /// (a peer named by address, or by descriptor when it was gone before the monitor read it).
        func closes(_ link: String, reach count: Int) -> Bool {
            let level = link == "control link" ? " debug " : " notice "
            let deadline = Date().addingTimeInterval(5)
            repeat {
                let lines = coordinator.output.split(separator: "\n").filter {
                    $0.contains(level) && $0.contains("\(link): connection from ") && $0.contains(" closed")
                }
                if lines.count >= count { return true }
                usleep(50_000)
            } while Date() < deadline
            return false
        }
        for (port, link) in zip(base...(base + 4), links) {
            var options = SocketOptions()
            options.lingerMilliseconds = 0
            for (name, frames) in Self.badMessages(ready) {
                let dealer = try ZMQDealer(context, connect: "tcp://127.0.0.1:\(port)", options: options)
                try dealer.socket.send(frames)
                let report = Self.error(in: try dealer.receive(timeout: 5))
                #expect(report != nil, "port \(port): no error answer to \(name)")
                #expect(report.map { Self.expectedCodes.contains($0.code) } == true, "port \(port), \(name): \(String(describing: report))")
                dealer.socket.close()
            }
            let ours = Self.badMessages(ready).count
            #expect(closes(link, reach: ours), "\(link): the closes of our \(ours) connections are logged")
            // Over the limit: libzmq drops the frame and cuts the connection; nothing reaches our
            // code, but the link monitor logs the close while our end is still open.
            let dealer = try ZMQDealer(context, connect: "tcp://127.0.0.1:\(port)", options: options)
            try dealer.socket.send([[UInt8](repeating: 7, count: 2 << 20)])
            #expect(try dealer.receive(timeout: 1) == nil)
            #expect(closes(link, reach: ours + 1), "\(link): the cut is logged:\n\(coordinator.output.suffix(2000))")
            dealer.socket.close()
        }
        // The wrong role on a link: an evaluator on the augmenter link.
        let wrongRole = try ZMQDealer(context, connect: "tcp://127.0.0.1:\(base + 2)")
        try wrongRole.send(
            Envelope(sender: "hostile", body: .ready(Ready(role: .evaluator, workerID: "lost", capacity: 1, software: "test"))).encoded())
        #expect(Self.error(in: try wrongRole.receive(timeout: 5))?.message.contains("evaluator") == true)
        wrongRole.socket.close()

        // Still serving: status answers, and a real augmenter joins.
        let augmenter = try ChildProcess(
            "comcl-augmenter", ["--coordinator", "tcp://127.0.0.1:\(base + 2)", "--worker-id", "augmenter-after"])
        defer { augmenter.signal(SIGTERM); _ = augmenter.wait(timeout: 10) }
        let deadline = Date().addingTimeInterval(20)
        var table = ""
        while !table.contains("augmenter-after"), Date() < deadline {
            table = (try? ChildProcess.run("comcl", ["status", "--control", "tcp://127.0.0.1:\(base)"]).1) ?? ""
            usleep(200_000)
        }
        #expect(table.contains("augmenter-after"), "\(table)")
        // The probe the containers run: only a worker whose id names this host counts.
        let probe = ["status", "--control", "tcp://127.0.0.1:\(base)", "--lists-this-host", "--timeout", "2"]
        #expect(try ChildProcess.run("comcl", probe).0 == 1, "augmenter-after names no host")
        let named = try ChildProcess("comcl-augmenter", ["--coordinator", "tcp://127.0.0.1:\(base + 2)"])
        defer { named.signal(SIGTERM); _ = named.wait(timeout: 10) }
        var listed = false
        for _ in 0..<50 where !listed {
            listed = try ChildProcess.run("comcl", probe).0 == 0
            if !listed { usleep(200_000) }
        }
        #expect(listed, "an augmenter with its default id (comcl-augmenter@<host>:<pid>) passes the probe")
        #expect(coordinator.process.isRunning)
        let log = coordinator.output
        for expected in ["not a valid comcl.v1.Envelope", "protocol version 1", "expected 1 frame", "control link: refused a message"] {
            #expect(log.contains(expected), "the coordinator's log names \"\(expected)\":\n\(log.suffix(3000))")
        }
    }

    @Test func workerAnswersBadInputFromItsRouterAndStillServes() throws {
        var options = SocketOptions()
        options.lingerMilliseconds = 0
        let router = try ZMQRouter(context, bind: "tcp://127.0.0.1:6530", options: options)
        let augmenter = try ChildProcess(
            "comcl-augmenter", ["--coordinator", "tcp://127.0.0.1:6530", "--worker-id", "target", "--max-message-bytes", "\(1 << 20)"])
        defer { augmenter.signal(SIGTERM); _ = augmenter.wait(timeout: 10) }

        /// The augmenter's next Ready (it announces on start, and again after a reconnect).
        func readyPeer() throws -> PeerID? {
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline {
                guard let message = try router.receive(timeout: 1) else { continue }
                if case .ready? = try? Envelope.decode(message.frames[0]).body { return message.peer }
            }
            return nil
        }
        /// The next error the worker sends (heartbeats skipped).
        func nextError(from peer: PeerID) throws -> ErrorReport? {
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline {
                guard let message = try router.receive(timeout: 1), message.peer == peer else { continue }
                if let report = Self.error(in: message.frames) { return report }
            }
            return nil
        }
        var peer = try #require(try readyPeer())
        let patch = Patch(
            id: WorkID(run: "hostile", step: 0, item: 1),
            pixels: try Tensor(uint8: (0..<(128 * 128 * 3)).map { UInt8($0 % 241) }, shape: [128, 128, 3]),
            level: .lesionLow, provenance: Provenance(imageID: "x", window: Box(x: 0, y: 0, w: 128, h: 128, score: 0), fromDetection: false)
        )
        let request = Envelope(sender: "router", body: .augmentRequest(AugmentRequest(patch: patch, seed: 3))).encoded()
        for (name, frames) in Self.badMessages(request) {
            try router.socket.send([peer] + frames)
            // A message of several frames is a batch to our workers: an error for each frame.
            for _ in frames.indices {
                let report = try nextError(from: peer)
                #expect(report.map { Self.expectedCodes.contains($0.code) } == true, "\(name): \(String(describing: report))")
            }
        }
        // Well-formed but nonsense: a recipe that is not JSON.
        try router.send(
            Envelope(sender: "router", body: .augmentRequest(AugmentRequest(patch: patch, seed: 3, recipe: "{not json"))).encoded(),
            to: peer)
        #expect(try nextError(from: peer)?.code == .badInput)

        // Over its limit: libzmq drops the connection; the worker reconnects and announces again.
        try router.socket.send([peer, [UInt8](repeating: 1, count: 2 << 20)])
        peer = try #require(try readyPeer(), "the augmenter did not come back after an oversized frame:\n\(augmenter.output)")

        // Still serving: a valid request gets its views.
        try router.send(request, to: peer)
        let deadline = Date().addingTimeInterval(20)
        var views: WorkID?  // kept at its data endpoint (the default), or inline
        while views == nil, Date() < deadline {
            guard let message = try router.receive(timeout: 1), message.peer == peer else { continue }
            switch try? Envelope.decode(message.frames[0]).body {
            case .viewsStored(let stored)?: views = stored.id
            case .viewPair(let pair)?: views = pair.id
            default: break
            }
        }
        #expect(views == patch.id)
        #expect(augmenter.process.isRunning)
        #expect(augmenter.output.contains("refused a message from the router"))
        #expect(augmenter.output.contains("libzmq dropped the link"), "the worker logs the cut")
    }
}
