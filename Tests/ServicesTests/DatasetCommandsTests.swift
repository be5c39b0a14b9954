import Foundation
import Testing
import TestSupport

/// `comcl synth`, `comcl manifest` and `comcl degrade` as a user runs them, on real files.
@Suite struct DatasetCommandsTests {
    @Test func synthManifestDegrade() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-datasets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let set = root.appendingPathComponent("set").path
        var (code, log) = try ChildProcess.run(
            "comcl", ["synth", "--count", "12", "--size", "96", "--seed", "3", "--out", set, "--image-format", "jpeg"])
        #expect(code == 0, "\(log)")
        (code, log) = try ChildProcess.run("comcl", ["manifest", "--labels", "\(set)/labels.csv", "--json"])
        #expect(code == 0, "\(log)")
        let summary = try JSONSerialization.jsonObject(with: Data(log.utf8.drop { $0 != UInt8(ascii: "{") })) as! [String: Any]
        #expect(summary["images"] as? Int == 12)
        #expect(abs((summary["lowQualityShare"] as! Double) - 4.0 / 12) < 1e-9)

        let seventy = root.appendingPathComponent("seventy").path
        (code, log) = try ChildProcess.run("comcl", ["degrade", "--labels", "\(set)/labels.csv", "--to", "0.7", "--out", seventy])
        #expect(code == 0, "\(log)")
        #expect(log.contains("low quality 4 -> 9"))
        (code, log) = try ChildProcess.run("comcl", ["manifest", "--labels", "\(seventy)/labels.csv"])
        #expect(log.contains("low-quality share: 75.0 %"), "\(log)")

        // A bad row: the error names file and line, and --skip-bad goes on.
        var labels = try String(contentsOfFile: "\(set)/labels.csv", encoding: .utf8)
        labels += "12,000099.jpg,0,1\n"
        try labels.write(toFile: "\(set)/labels.csv", atomically: true, encoding: .utf8)
        (code, log) = try ChildProcess.run("comcl", ["manifest", "--labels", "\(set)/labels.csv"])
        #expect(code != 0)
        #expect(log.contains("\(set)/labels.csv:14: image 000099.jpg not found under \(set)/images"), "\(log)")
        (code, log) = try ChildProcess.run("comcl", ["manifest", "--labels", "\(set)/labels.csv", "--skip-bad"])
        #expect(code == 0 && log.contains("12 images (eyeq), 1 rows skipped"), "\(log)")
    }
}
