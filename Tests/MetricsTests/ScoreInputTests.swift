import Datasets
import Foundation
import Metrics
import Testing

/// Reading truth and predictions from real CSV files: the formats we accept, and a clear error
/// naming file and line for every way they can disagree.
@Suite struct ScoreInputTests {
    let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-score-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    func file(_ name: String, _ text: String) -> String {
        let url = folder.appendingPathComponent(name)
        try! text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func error(truth: String, pred: String) -> String {
        do {
            _ = try ScoreInput.score(truth: file("t.csv", truth), predictions: file("p.csv", pred))
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func readsEyeQLabelsAsGradingTruth() throws {
        let truth = file("eyeq.csv", ",image,quality,DR_grade\n0,a.jpeg,0,0\n1,b.jpeg,2,4\n2,c.jpeg,1,2\n")
        let pred = file("pred.csv", "image,grade\nc.jpeg,2\na.jpeg,0\nb.jpeg,3\n")
        guard case .grading(let s) = try ScoreInput.score(truth: truth, predictions: pred) else { Issue.record("expected grading"); return }
        #expect(s.images == 3 && abs(s.accuracy - 2.0 / 3) < 1e-12)
        #expect(s.confusion.counts[4][3] == 1)
    }

    @Test func readsChestXrayFindingsAsMultiLabelTruth() throws {
        let truth = file(
            "chest.csv",
            "Image Index,Finding Labels,Patient ID\n1.png,Effusion|Mass,1\n2.png,No Finding,2\n3.png,Mass,3\n4.png,No Finding,4\n")
        let pred = file("pred.csv", "Image Index,Effusion,Mass\n1.png,0.9,0.8\n2.png,0.1,0.3\n3.png,0.2,0.6\n4.png,0.3,0.7\n")
        guard case .multilabel(let s) = try ScoreInput.score(truth: truth, predictions: pred) else {
            Issue.record("expected multi-label"); return
        }
        #expect(s.labels.map(\.label) == ["Effusion", "Mass"])
        #expect(s.labels[0].auc == 1 && s.labels[1].auc == 0.75)  // Mass: 0.6 ranks below 4.png's 0.7
        #expect(s.labels[1].accuracy == 0.75)  // 4.png's 0.7 is a false positive at 0.5
    }

    @Test func disagreementsAreNamed() {
        let truth = "image,grade\na,0\nb,1\n"
        #expect(error(truth: truth, pred: "image,grade\na,0\n").contains("no prediction for 1 of 2 images (first: b)"))
        #expect(error(truth: truth, pred: "image,grade\na,0\nb,1\nz,2\n").contains("p.csv:4: z is not in the truth file"))
        #expect(error(truth: truth, pred: "image,grade\na,0\nb,1\na,2\n").contains("p.csv:4: a is listed twice (first on line 2)"))
        #expect(error(truth: truth, pred: "image,grade\na,0\nb,7\n").contains("p.csv:3: grade \"7\" is not an integer in 0...4"))
        #expect(error(truth: truth, pred: "image,grade\na,0\nb,x\n").contains("grade \"x\""))
        #expect(error(truth: truth, pred: "picture,grade\na,0\nb,1\n").contains("no image column"))
        #expect(error(truth: truth, pred: "image,label\na,0\nb,1\n").contains("no column \"grade\""))
        #expect(error(truth: "image,grade\n", pred: "image,grade\n").contains("no images to score"))
        let labels = "image,Mass,Edema\na,1,0\nb,0,1\n"
        #expect(error(truth: labels, pred: "image,Mass,Edema,Hernia\na,1,0,0\nb,0,1,0\n").contains("unknown label columns \"Hernia\""))
        #expect(error(truth: labels, pred: "image,Mass\na,1\nb,0\n").contains("no column \"Edema\""))
        #expect(error(truth: labels, pred: "image,Mass,Edema\na,1,nan\nb,0,1\n").contains("score \"nan\" for Edema is not a finite number"))
        #expect(
            error(truth: "image,Mass\na,2\n", pred: "image,Mass\na,1\n").contains("t.csv:2: Mass is \"2\"; a label column holds 0 or 1"))
        #expect(error(truth: truth, pred: "image,grade\na,0\nb,1,\"open\n").contains("never closed"))
    }

    @Test func degenerateScoresSaySo() {
        let one = GradingScore(truth: [3, 3, 3], predicted: [3, 3, 3])
        #expect(one.quadraticKappa == nil && one.accuracy == 1)
        #expect(one.notes.count == 2)  // kappa undefined; recall undefined for grades 0, 1, 2, 4
        let labels = MultiLabelScore(labels: ["A"], truth: [[false], [false]], scores: [[0.2], [0.7]])
        #expect(labels.labels[0].auc == nil && labels.meanAUC == nil)
        #expect(labels.notes.first?.contains("AUC is undefined for labels whose truth holds one class only") == true)
    }
}
