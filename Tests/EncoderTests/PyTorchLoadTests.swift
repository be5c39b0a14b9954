import Basics
@testable import Encoder
import Foundation
import Testing
import TestSupport

@Suite struct PyTorchLoadTests {
    /// Our checkpoint loads into PyTorch with load_state_dict(strict=True), and PyTorch's eval-mode
    /// features from it equal ours (so names, layouts and running statistics all survived).
    @Test(
        .enabled(if: TorchPython.available, "needs PyTorch: scripts/torch-venv.sh (scripts/test.sh runs it)"),
        arguments: [(ResNetArch.resnet18, 0.125), (.resnet50, 0.0625)])
    func pytorchLoadsOurCheckpoint(_ arch: ResNetArch, _ width: Double) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-torch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = EncoderModel(.contrastive(arch: arch, width: width), seed: 21)
        // Train a step so running statistics and counters are not their defaults.
        var rng = SeededGenerator(seed: 2)
        let (n, h, w) = (2, 40, 48)
        let nchw = (0..<(n * 3 * h * w)).map { _ in Float(rng.normal()) }
        let x = channelsLast(nchw, n: n, c: 3, h: h, w: w)
        _ = model.forward(x)
        let weights = dir.appendingPathComponent("w.safetensors")
        try ModelState.save(model, to: weights)
        try NumPyFile.write(float32: nchw, shape: [n, 3, h, w], to: dir.appendingPathComponent("x.npy"))

        let (status, log) = try TorchPython.run([
            Fixtures.directory.appendingPathComponent("check_torch_load.py").path, weights.path, arch.rawValue, "\(width)",
            dir.appendingPathComponent("x.npy").path, dir.appendingPathComponent("f.npy").path,
        ])
        try #require(status == 0, "PyTorch could not load our checkpoint: \(log)")

        model.training = false
        _ = model.forward(x)
        let theirs = try NumPyFile.readFloat32(try Data(contentsOf: dir.appendingPathComponent("f.npy")))
        #expect(theirs.shape == [n, model.backbone.featureDimension])
        expectClose("features after PyTorch load", model.features!.values, theirs.values, rel: 1e-4)
    }
}

@Suite struct BLASCoreTests {
    @Test func choosesKernelsFromCPUFeatures() {
        #expect(BLASCore.core(forFlags: ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"]).core == "SkylakeX")
        #expect(BLASCore.core(forFlags: ["avx2", "fma", "avx512f"]).core == "Haswell")  // partial AVX-512
        #expect(BLASCore.core(forFlags: ["avx2", "fma"]).core == "Haswell")
        #expect(BLASCore.core(forFlags: ["sse4_2"]).core == nil)
    }
}
