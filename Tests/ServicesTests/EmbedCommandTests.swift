import Basics
import Encoder
import Foundation
import Images
import Testing
import TestSupport

/// `comcl embed` as a user runs it: real PNG and JPEG files, a real safetensors file, the .npy read
/// back. The features must be what the in-process encoder (checked against PyTorch in
/// EncoderTests) computes for the same decoded images, in sorted file-name order.
@Suite struct EmbedCommandTests {
    let directory: URL
    let config = ModelConfig(arch: .resnet18, width: 0.0625)

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-embed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("images"), withIntermediateDirectories: true)
    }

    func image(_ seed: UInt64, width: Int, height: Int) throws -> RGBImage {
        var rng = SeededGenerator(seed: seed)
        return try RGBImage(width: width, height: height, pixels: (0..<(width * height * 3)).map { _ in UInt8(rng.next() % 256) })
    }

    @Test func writesFeaturesInSortedOrder() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        // Two sizes, so batching by size is exercised; names out of creation order.
        let images = [
            ("b.png", try image(1, width: 48, height: 40)), ("a.png", try image(2, width: 48, height: 40)),
            ("c.png", try image(3, width: 64, height: 64)),
        ]
        for (name, img) in images {
            try Data(try PNGEncoder.encode(img)).write(to: directory.appendingPathComponent("images/\(name)"))
        }
        try Data("not an image".utf8).write(to: directory.appendingPathComponent("images/notes.txt"))
        let model = EncoderModel(config, seed: 5)
        let weights = directory.appendingPathComponent("w.safetensors"), out = directory.appendingPathComponent("f.npy")
        try ModelState.save(model, to: weights)

        let (code, log) = try ChildProcess.run(
            "comcl",
            [
                "embed", "--weights", weights.path, "--arch", "resnet18", "--width", "0.0625",
                "--input", directory.appendingPathComponent("images").path, "--output", out.path, "--batch", "4",
            ])
        #expect(code == 0, "\(log)")
        let (values, shape) = try NumPyFile.readFloat32(try Data(contentsOf: out))
        let d = model.backbone.featureDimension
        #expect(shape == [3, d])

        model.training = false
        for (row, (_, img)) in images.sorted(by: { $0.0 < $1.0 }).enumerated() {
            let x = Tensor4(shape: Shape4(n: 1, h: img.height, w: img.width, c: 3))
            Normalization.imageNet.write(rgb: img.pixels, into: x, index: 0)
            let expected = model.forward(x).values
            let got = Array(values[(row * d)..<((row + 1) * d)])
            let diff = zip(got, expected).map { abs($0 - $1) }.max()!
            #expect(diff < 1e-5, "row \(row): max abs difference \(diff)")
        }
    }

    /// torchvision's own ResNet-18 (full width, its state dict as a user's weights file would have
    /// it, batch-norm statistics off their defaults) and `comcl embed` on the same PNG files give
    /// the same features within 1e-4 of their scale.
    @Test(.enabled(if: TorchPython.available, "needs PyTorch: scripts/torch-venv.sh (scripts/test.sh runs it)"))
    func agreesWithTorchvision() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appendingPathComponent("images")
        for (i, size) in [(64, 64), (64, 64), (72, 56)].enumerated() {
            try Data(try PNGEncoder.encode(try image(UInt64(10 + i), width: size.0, height: size.1)))
                .write(to: folder.appendingPathComponent("img\(i).png"))
        }
        let weights = directory.appendingPathComponent("tv.safetensors"), theirs = directory.appendingPathComponent("tv.npy")
        let ours = directory.appendingPathComponent("ours.npy")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/encoder/torchvision_features.py")
        let (status, log) = try TorchPython.run([script.path, "resnet18", folder.path, weights.path, theirs.path])
        try #require(status == 0, "\(log)")
        let (code, embedLog) = try ChildProcess.run(
            "comcl",
            [
                "embed", "--weights", weights.path, "--arch", "resnet18", "--input", folder.path, "--output", ours.path,
            ])
        try #require(code == 0, "\(embedLog)")
        let (expected, shape) = try NumPyFile.readFloat32(try Data(contentsOf: theirs))
        let (got, gotShape) = try NumPyFile.readFloat32(try Data(contentsOf: ours))
        #expect(gotShape == shape && shape == [3, 512])
        let scale = expected.map(abs).max()!, worst = zip(got, expected).map { abs($0 - $1) }.max()!
        #expect(worst / scale < 1e-4, "max difference \(worst) against a largest feature of \(scale)")
    }

    @Test func clearErrors() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let weights = directory.appendingPathComponent("w.safetensors")
        try ModelState.save(EncoderModel(config), to: weights)
        let imageDir = directory.appendingPathComponent("images")
        try Data(try PNGEncoder.encode(try image(1, width: 40, height: 40))).write(to: imageDir.appendingPathComponent("x.png"))
        let out = directory.appendingPathComponent("f.npy").path
        let cases: [([String], String)] = [
            (["--arch", "resnet99"], "unknown --arch 'resnet99'"),
            (["--arch", "resnet18", "--width", "0.125"], "has shape [4, 3, 7, 7] in the checkpoint, the model needs [8, 3, 7, 7]"),
            (["--arch", "resnet34", "--width", "0.0625"], "lacks"),
            (["--arch", "resnet18", "--width", "0.0625", "--weights-missing"], "Unknown option"),
        ]
        for (extra, expected) in cases {
            let (code, log) = try ChildProcess.run(
                "comcl", ["embed", "--weights", weights.path, "--input", imageDir.path, "--output", out] + extra)
            #expect(code != 0 && log.contains(expected), "\(extra): \(log)")
        }
        try Data([0x89, 0x50, 0x4E, 0x47, 0, 1]).write(to: imageDir.appendingPathComponent("y.png"))
        let (code, log) = try ChildProcess.run(
            "comcl",
            [
                "embed", "--weights", weights.path, "--arch", "resnet18", "--width", "0.0625",
                "--input", imageDir.path, "--output", out,
            ])
        #expect(code != 0 && log.contains("y.png"), "\(log)")
        let (code2, log2) = try ChildProcess.run(
            "comcl",
            [
                "embed", "--weights", "/nonexistent.safetensors", "--arch", "resnet18",
                "--input", imageDir.path, "--output", out,
            ])
        #expect(code2 != 0 && log2.contains("/nonexistent.safetensors"), "\(log2)")
        #expect(!FileManager.default.fileExists(atPath: out), "no output is written when the command fails")
    }
}
