import Encoder
import Foundation
import Testing
import TestSupport

/// `comcl loss` on the committed .npy inputs: the same numbers as the NumPy reference, and clear
/// errors for unusable inputs.
@Suite struct LossCommandTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/contrastive")
    static let inputs = ["--embeddings", folder.appendingPathComponent("embeddings.npy").path, "--levels", folder.appendingPathComponent("levels.npy").path]

    func report(_ arguments: [String]) throws -> [String: Any] {
        let (code, log) = try ChildProcess.run("comcl", ["loss"] + Self.inputs + arguments)
        try #require(code == 0, "\(log)")
        return try JSONSerialization.jsonObject(with: Data(log.utf8.drop { $0 != UInt8(ascii: "{") })) as! [String: Any]
    }

    @Test(arguments: [
        ("middle_quantile", ["--step", "10", "--total", "30"]),
        ("middle_paper", ["--step", "20", "--total", "30", "--spl-threshold", "paper"]),
        ("no_spl", ["--step", "10", "--total", "30", "--no-spl"]),
        ("tau_kmin_weights", ["--step", "25", "--total", "30", "--tau", "0.2", "--k-min", "3", "--weights", "1,0.5,2"]),
        ("no_multilevel", ["--step", "5", "--total", "30", "--pairings", "L+L~-H+H~"]),
    ])
    func agreesWithTheReference(_ name: String, _ arguments: [String]) throws {
        let fixture = try SafeTensors(contentsOf: Self.folder.appendingPathComponent("multilevel_loss.safetensors"))
        let json = try report(arguments)
        let pairings = json["pairings"] as! [[String: Any]]
        let losses = try fixture.floats("\(name).losses"), ks = try fixture.integers("\(name).k")
        #expect(pairings.count == losses.count)
        for (p, pairing) in pairings.enumerated() {
            #expect(abs((pairing["loss"] as! Double) - Double(losses[p])) < 1e-5, "\(name): \(pairing)")
            #expect(pairing["k_t"] as? Int == Int(ks[p]))
        }
        #expect(abs((json["loss"] as! Double) - Double(try fixture.floats("\(name).total")[0])) < 1e-5)
    }

    @Test func unusableInputsAreExplained() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-loss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let embeddings = Self.folder.appendingPathComponent("embeddings.npy").path
        let wrongLevels = scratch.appendingPathComponent("levels.npy")
        try NumPyFile.write(float32: [0, 1, 2], shape: [3], to: wrongLevels)
        let cases: [([String], String)] = [
            (["--embeddings", embeddings, "--levels", wrongLevels.path], "expected int32 '<i4' or int64 '<i8'"),
            (["--embeddings", embeddings, "--levels", embeddings], "expected int32"),
            (["--embeddings", "/nonexistent.npy", "--levels", wrongLevels.path], "/nonexistent.npy"),
            (Self.inputs + ["--pairings", "L-Q"], "unknown level \"Q\""),
            (Self.inputs + ["--weights", "1,2"], "--weights needs 3 numbers"),
            (Self.inputs + ["--spl-threshold", "median"], "--spl-threshold must be quantile or paper"),
        ]
        for (arguments, message) in cases {
            let (code, log) = try ChildProcess.run("comcl", ["loss", "--step", "1", "--total", "10"] + arguments)
            #expect(code != 0 && log.contains(message), "\(arguments): \(log)")
        }
    }
}
