import Foundation
import Images
import Testing
import TestSupport

/// `comcl show-views` and `comcl bench augmenter` as a user runs them.
@Suite struct AugmenterCommandsTests {
    @Test func showViewsWritesTheGrid() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-views-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("views.png").path
        var (code, log) = try ChildProcess.run("comcl", ["show-views", "--views", "3", "--out", out])
        #expect(code == 0, "\(log)")
        // Four rows (L, L~, H, H~) of the patch and three views, 128 px cells, 4 px gaps.
        let grid = try ImageDecoder.decode(contentsOf: out)
        #expect((grid.width, grid.height) == (4 * 128 + 5 * 4, 4 * 128 + 5 * 4))

        let patch = root.appendingPathComponent("patch.png").path
        let tile = try RGBImage(width: 40, height: 30, pixels: [UInt8](repeating: 120, count: 40 * 30 * 3))
        try Data(try PNGEncoder.encode(tile)).write(to: URL(fileURLWithPath: patch))
        (code, log) = try ChildProcess.run(
            "comcl", ["show-views", "--patch", patch, "--views", "2", "--out", out, "--recipe", "prior-work-degraded"])
        #expect(code == 0, "\(log)")
        // The random resized crop makes every view 128 px, whatever the patch size.
        #expect(try ImageDecoder.decode(contentsOf: out).height == 128 + 2 * 4)

        (code, log) = try ChildProcess.run("comcl", ["show-views", "--patch", root.appendingPathComponent("gone.png").path, "--out", out])
        #expect(code != 0 && log.contains("gone.png"), "\(log)")
        (code, log) = try ChildProcess.run("comcl", ["show-views", "--recipe", "sharp", "--out", out])
        #expect(
            code != 0
                && log.contains(
                    "--recipe: sharp: neither a recipe file nor a preset (prior-work, prior-work-degraded, small-scale, small-views)"),
            "\(log)")
    }

    @Test func recipePrintsAFileToStartFromAndChecksIt() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-recipe-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        var (code, log) = try ChildProcess.run("comcl", ["recipe", "prior-work-degraded"])
        #expect(code == 0 && log.contains("\"fundus-degradation\"") && log.contains("\"normalize\""), "\(log)")
        // The printed recipe is a valid recipe file, and prints back the same.
        try log.write(to: file, atomically: true, encoding: .utf8)
        let printed = log
        (code, log) = try ChildProcess.run("comcl", ["recipe", file.path])
        #expect(code == 0 && log == printed, "\(log)")
        try log.replacingOccurrences(of: "\"translate\"", with: "\"translation\"").write(to: file, atomically: true, encoding: .utf8)
        (code, log) = try ChildProcess.run("comcl", ["recipe", file.path])
        #expect(code != 0 && log.contains("op 6 (random-affine): unknown parameter \"translation\""), "\(log)")
    }

    @Test func benchAugmenterReportsScaling() throws {
        let (code, log) = try ChildProcess.run(
            "comcl", ["bench", "augmenter", "--patches", "16", "--images", "4", "--replicas", "1,2"], timeout: 120)
        #expect(code == 0, "\(log)")
        #expect(log.contains("message overhead") && log.contains("replicas  patches/s"), "\(log)")
        let rows = log.split(separator: "\n").filter { $0.hasPrefix("1 ") || $0.hasPrefix("2 ") }
        #expect(rows.count == 2, "\(log)")
    }
}
