import Encoder
import Foundation
import Testing
import TestSupport

/// `comcl loss` on the committed .npy inputs: the same numbers as the NumPy reference, and clear
/// errors for unusable inputs.
@Suite struct LossCommandTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/contrastive")
    static let inputs = [
        "--embeddings", folder.appendingPathComponent("embeddings.npy").path, "--levels", folder.appendingPathComponent("levels.npy").path,
    ]

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

    /// A 1-D int64 .npy file, written by hand (NumPy format 1.0: magic, header length, header
    /// padded to 64 bytes, little-endian values).
    static func int64NPY(_ values: [Int64]) -> Data {
        var header = "{'descr': '<i8', 'fortran_order': False, 'shape': (\(values.count),), }"
        header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    @Test func unusableInputsAreExplained() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-loss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let embeddings = Self.folder.appendingPathComponent("embeddings.npy").path
        let wrongLevels = scratch.appendingPathComponent("levels.npy")
        try NumPyFile.write(float32: [0, 1, 2], shape: [3], to: wrongLevels)
        // Levels 0..3 of the right count but one out of range, and levels whose count does not
        // match the embeddings (24 levels committed; 5 here).
        let badCode = scratch.appendingPathComponent("badcode.npy"), short = scratch.appendingPathComponent("short.npy")
        try Self.int64NPY(Array(repeating: 1, count: 23) + [7]).write(to: badCode)
        try Self.int64NPY([0, 1, 2, 3, 0]).write(to: short)
        let cases: [([String], String)] = [
            (["--embeddings", embeddings, "--levels", badCode.path], "entry 23 is 7; levels are 0 L, 1 L~, 2 H, 3 H~"),
            (["--embeddings", embeddings, "--levels", short.path], "expected shape (10, D) for 5 levels, got [48, 16]"),
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
