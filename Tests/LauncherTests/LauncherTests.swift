import Foundation
import Glibc
import Launcher
import Testing
import Training

/// What a local launch says and checks, without starting services: the console's warnings
/// (RunWatch) and the port check.
@Suite struct RunWatchTests {
    /// A metrics.jsonl record with only what RunWatch reads.
    static func record(step: Int, detected: Int, fallback: Int) throws -> StepRecord {
        let json = """
            {"step":\(step),"steps":100,"batch":16,"loss":1,"pairings":[],"patches_per_second":1,"eta_seconds":1,
             "times":{"wait_views":0,"forward":0,"forward_compute":0,"loss":0,"backward":0,"backward_compute":0,"aggregate":0,
                      "optimizer":0,"other":0,"checkpoint":0,"total":0},
             "worker_busy":1,"coordinator_share":0,"workers":1,"attempts":1,"replaced":0,"checksum":"0",
             "sources":{"lesion_from_detection":\(detected),"lesion_fallback":\(fallback),"skipped":{}}}
            """
        return try StepRecord.decoder.decode(StepRecord.self, from: Data(json.utf8))
    }

    static func log() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-runwatch-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        return url
    }

    @Test func warnsOnceWhenMostLesionPatchesAreRandomCrops() throws {
        let watch = RunWatch(coordinatorLog: Self.log())
        // Judged only after 5 steps: the first steps' images are a small sample.
        for step in 0..<4 { #expect(try watch.recorded(Self.record(step: step, detected: 1, fallback: 7)).isEmpty) }
        let warning = try watch.recorded(Self.record(step: 4, detected: 1, fallback: 7))
        #expect(warning.count == 1 && warning[0].hasPrefix("warning: 88 % of the lesion patches so far are random crops"), "\(warning)")
        #expect(warning[0].contains("--detector-conf") && warning[0].contains("boxes:FILE"))
        #expect(try watch.recorded(Self.record(step: 5, detected: 0, fallback: 8)).isEmpty, "said once")
        #expect(watch.summary.hasPrefix("6 steps; lesion patches 5/48 from detections"))
    }

    @Test func saysNothingWhenDetectionsMostlyWork() throws {
        let watch = RunWatch(coordinatorLog: Self.log())
        for step in 0..<10 { #expect(try watch.recorded(Self.record(step: step, detected: 6, fallback: 2)).isEmpty) }
    }

    @Test func showsTheFirstSkippedImagesFromTheCoordinatorLog() throws {
        let log = Self.log()
        let watch = RunWatch(coordinatorLog: log)
        let lines = (0..<7).map {
            "2026-11-28T12:00:00+0000 warning comcl.coordinator: [Training] step \($0) item 3: bad\($0).png: corrupt; re-planned from ok.png\n"
        }
        try Data(lines.joined().utf8).write(to: log)
        let shown = watch.idle()
        #expect(shown.count == RunWatch.skipsShown, "\(shown)")
        #expect(shown.first == "skipped: step 0 item 3: bad0.png: corrupt")
        #expect(shown.last?.hasSuffix("(further ones: logs/coordinator.log)") == true)
    }
}

@Suite struct PortCheckTests {
    @Test func aListeningPortIsNamedWithTheOptionThatMovesIt() throws {
        // Hold a port the way a coordinator does: bound and listening.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        try #require(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, 16) } } == 0)
        try #require(listen(fd, 1) == 0)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: bound.sin_port))
        #expect(!PortCheck.isFree(port))
        #expect {
            try PortCheck.requireFree(basePort: port - 2)
        } throws: {
            "\($0)".hasPrefix("port \(port) on 127.0.0.1 is in use") && "\($0)".contains("--base-port")
        }
        close(fd)
        #expect(PortCheck.isFree(port))
    }
}
