import Foundation
import Testing
import TestSupport

/// `comcl score` as a user runs it: real CSV files written from the golden cases
/// (Tests/Fixtures/metrics/metrics.json), the JSON it prints checked against scikit-learn's values.
@Suite struct ScoreCommandTests {
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/metrics/metrics.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    static func golden(_ name: String) -> [String: Any] {
        (fixture["cases"] as! [[String: Any]]).first { $0["name"] as! String == name }!
    }

    let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-score-cli-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    func write(_ name: String, _ lines: [String]) -> String {
        let url = folder.appendingPathComponent(name)
        try! (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func score(_ truth: String, _ pred: String) throws -> [String: Any] {
        let (code, log) = try ChildProcess.run("comcl", ["score", "--truth", truth, "--pred", pred])
        try #require(code == 0, "\(log)")
        // stdout's JSON object; notes (stderr) may follow it
        let json = log[log.firstIndex(of: "{")!...log.lastIndex(of: "}")!]
        return try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    }

    @Test func gradingFromFilesMatchesScikitLearn() throws {
        let c = Self.golden("grading-random")
        let (truth, predicted) = (c["truth"] as! [Int], c["predicted"] as! [Int])
        // EyeQ's own label layout for the truth; predictions in reverse order (matched by image).
        let t = write("truth.csv", [",image,quality,DR_grade"] + truth.enumerated().map { "\($0),img\($0).jpeg,0,\($1)" })
        let p = write("pred.csv", ["image,grade"] + predicted.enumerated().reversed().map { "img\($0).jpeg,\($1)" })
        let json = try score(t, p)
        #expect(json["task"] as? String == "grading")
        #expect(abs(json["quadratic_kappa"] as! Double - (c["quadratic_kappa"] as! Double)) < 1e-12)
        #expect(abs(json["accuracy"] as! Double - (c["accuracy"] as! Double)) < 1e-12)
        #expect(json["confusion"] as! [[Int]] == c["confusion"] as! [[Int]])
    }

    @Test func multiLabelFromFilesMatchesScikitLearn() throws {
        let c = Self.golden("multilabel-ties")
        let (labels, truth, scores) = (c["labels"] as! [String], c["truth"] as! [[Int]], c["scores"] as! [[Double]])
        let t = write(
            "truth.csv",
            ["image," + labels.joined(separator: ",")] + truth.enumerated().map { "i\($0)," + $1.map(String.init).joined(separator: ",") })
        let p = write(
            "pred.csv",
            ["image," + labels.joined(separator: ",")] + scores.enumerated().map { "i\($0)," + $1.map { "\($0)" }.joined(separator: ",") })
        let json = try score(t, p)
        let ours = json["labels"] as! [[String: Any]], theirs = c["per_label"] as! [[String: Any]]
        for (a, b) in zip(ours, theirs) {
            #expect(abs(a["auc"] as! Double - (b["auc"] as! Double)) < 1e-12, "\(b["label"]!)")
            #expect(abs(a["kappa"] as! Double - (b["kappa"] as! Double)) < 1e-12, "\(b["label"]!)")
        }
    }

    @Test func undefinedValuesAreNullWithANote() throws {
        let t = write("truth.csv", ["image,grade", "a,2", "b,2"])
        let p = write("pred.csv", ["image,grade", "a,2", "b,2"])
        let (code, log) = try ChildProcess.run("comcl", ["score", "--truth", t, "--pred", p])
        #expect(code == 0)
        #expect(log.contains("\"quadratic_kappa\" : null"))
        #expect(log.contains("note: quadratic kappa is undefined"))
    }

    @Test func badFilesFailWithTheirName() throws {
        let t = write("truth.csv", ["image,grade", "a,2", "b,9"])
        let p = write("pred.csv", ["image,grade", "a,2", "b,2"])
        let (code, log) = try ChildProcess.run("comcl", ["score", "--truth", t, "--pred", p])
        #expect(code != 0 && log.contains("truth.csv:3: grade \"9\" is not an integer in 0...4"), "\(log)")
        let (missing, message) = try ChildProcess.run(
            "comcl", ["score", "--truth", folder.appendingPathComponent("none.csv").path, "--pred", p])
        #expect(missing != 0 && message.contains("none.csv: no such file"), "\(message)")
    }
}
