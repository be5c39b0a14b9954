import Foundation
import Testing
import TestSupport

/// A real DICOM chest radiograph (pydicom-data's RG1_J2KR.dcm: CR, MONOCHROME1, 15 bits stored,
/// JPEG 2000) trains and evaluates as it is, with no conversion: ChestX-ray14's label files name
/// eight copies of it, two per level; `comcl train` runs the real services on them (the cropper
/// cuts 16-bit patches, the augmenters make views from them) and `comcl evaluate` fine-tunes on
/// the checkpoint and projects 16-bit patches' embeddings. The training settings come through the three layers (file, environment, flags).
@Suite(.serialized) struct DicomTrainingTests {
    static let recipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/training/small-views.json").path

    @Test func realChestRadiographTrainsAndEvaluates() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-dicom-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let images = folder.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        var entries = "Image Index,Finding Labels\n", quality = "Image Index,quality\n"
        for index in 0..<8 {
            let name = String(format: "xr-%02d.dcm", index)
            try FileManager.default.copyItem(atPath: DicomSamples.path("RG1_J2KR.dcm"), toPath: images.appendingPathComponent(name).path)
            entries += "\(name),\(index % 2 == 0 ? "Nodule" : "No Finding")\n"
            quality += "\(name),\(index / 2 % 2)\n"
        }
        let labels = folder.appendingPathComponent("Data_Entry_2017.csv").path,
            qualities = folder.appendingPathComponent("quality.csv").path
        try entries.write(toFile: labels, atomically: true, encoding: .utf8)
        try quality.write(toFile: qualities, atomically: true, encoding: .utf8)
        let dataset = ["--labels", labels, "--format", "chestxray", "--quality", qualities]

        // The settings come in all three layers (a YAML file, COMCL_* variables, flags), as a
        // deployment would give them; the run keeps what it used.
        let run = folder.appendingPathComponent("run"), settings = folder.appendingPathComponent("settings.yaml")
        try """
        batch: 8
        bn_group: 2
        width: 0.125
        steps: 5
        recipe: \(Self.recipe)
        checkpointEvery: 2
        lr-schedule: constant
        """.write(to: settings, atomically: true, encoding: .utf8)
        let train = try ChildProcess(
            executable: ChildProcess.productsDirectory.appendingPathComponent("comcl"),
            ["train", "--config", settings.path] + dataset + [
                "--run-folder", run.path, "--base-port", "6960", "--embedding-workers", "1", "--worker-threads", "1", "--seed", "5",
            ], name: "comcl", environment: ["COMCL_STEPS": "2"])
        try #require(train.wait(timeout: 400) == 0, "\(train.output)")
        #expect(train.output.contains("step 2/2"), "\(train.output)")
        let kept = try String(contentsOf: run.appendingPathComponent("settings-train.yaml"), encoding: .utf8)
        for line in ["steps: 2  # environment", "bn-group: 2  # file", "seed: 5  # flag", "prefetch: 2  # default"] {
            #expect(kept.contains(line), "\(line) in \(kept)")
        }
        let metrics = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        #expect(metrics.split(separator: "\n").count >= 2 && !metrics.contains("nan"), "\(metrics)")
        let checkpoint = run.appendingPathComponent("checkpoints/step-000002/model.safetensors").path
        #expect(FileManager.default.fileExists(atPath: checkpoint))

        let out = folder.appendingPathComponent("evaluation")
        let (code, log) = try ChildProcess.run(
            "comcl",
            ["evaluate"] + dataset + [
                "--model", "dicom=\(checkpoint)", "--out", out.path, "--image-size", "32", "--epochs", "1", "--batch", "4", "--sweep", "",
                "--embedding-patches", "2",
            ], timeout: 300)
        try #require(code == 0, "\(log)")
        #expect(log.contains("| dicom |"), "the results table: \(log)")
    }
}
