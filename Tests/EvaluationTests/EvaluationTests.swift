import Datasets
import Domain
import Encoder
import Evaluation
import Foundation
import Images
import Metrics
import Synthetic
import Testing
import Wire

/// The evaluation protocol end to end on real PNG files: classifiers learn what their input
/// separates, the sweep degrades through the degrade step, every file is written, `comcl
/// score`'s reader recomputes the results from them, and a seed fixes everything.
@Suite(.serialized) struct EvaluationTests {
    static func folder(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-evaluation-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Grade 0 images are reddish, grade 1 bluish, with noise: any encoder's features separate them.
    static func colourDataset(_ root: URL, count: Int) throws -> Manifest {
        let images = root.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        var entries: [ManifestEntry] = []
        for i in 0..<count {
            let grade = i % 2
            var pixels = [UInt8](repeating: 0, count: 48 * 48 * 3)
            for p in 0..<(48 * 48) {
                let noise = UInt8((p * 37 + i * 11) % 40)
                pixels[p * 3] = grade == 0 ? 180 + noise : 40 + noise
                pixels[p * 3 + 1] = 60 + noise
                pixels[p * 3 + 2] = grade == 0 ? 40 + noise : 180 + noise
            }
            let name = String(format: "%03d.png", i)
            try Data(PNGEncoder.encode(pixels: pixels, width: 48, height: 48)).write(to: images.appendingPathComponent(name))
            entries.append(
                ManifestEntry(
                    image: name, labels: [String(grade)], grade: grade, quality: i % 3 == 0 ? .low : .high,
                    qualityGrade: i % 3 == 0 ? 1 : 0, lesion: grade > 0, line: i + 2))
        }
        let labels = root.appendingPathComponent("labels.csv")
        try Data(ManifestWriter.eyeq(entries).utf8).write(to: labels)
        return try Manifest.load(ManifestOptions(format: .eyeq, labels: labels.path))
    }

    /// Batch 9 divides the 18 training images: a last batch of 2 puts 1x1 maps under batch norm
    /// with two samples, whose statistics made the fine-tune's test accuracy depend on the last
    /// bits of the engine's arithmetic (1.0 on the GEMM engine, 0.83 on oneDNN at batch 8).
    static func config(_ transfer: Transfer) -> EvaluationConfig {
        var c = EvaluationConfig()
        (c.transfer, c.imageSize, c.classes, c.batch, c.sweep) = (transfer, 32, 2, 9, [])
        (c.epochs, c.learningRate) = transfer == .linear ? (40, 0.05) : (15, 0.05)
        return c
    }

    @Test(arguments: [Transfer.linear, .finetune])
    func classifiersLearnWhatTheirInputSeparates(_ transfer: Transfer) throws {
        let root = Self.folder("colour-\(transfer.rawValue)")
        defer { try? FileManager.default.removeItem(at: root) }
        let manifest = try Self.colourDataset(root, count: 24)
        let (train, test) = DataSplit.split(manifest, testShare: 0.25, seed: 0)
        let spec = ModelSpec(name: "scratch", weights: nil, arch: .resnet18, width: 0.125)
        let results = try Evaluation(config: Self.config(transfer), models: [spec], threads: 2)
            .run(train: train, test: test, output: root.appendingPathComponent("out"))
        let run = try #require(results.runs.first)
        #expect(run.epochs.count == Self.config(transfer).epochs)
        #expect(run.epochs.last!.loss < run.epochs.first!.loss, "training loss \(run.epochs.map(\.loss))")
        #expect(run.grading?.accuracy == 1, "\(transfer): test accuracy \(run.grading?.accuracy ?? -1), losses \(run.epochs.map(\.loss))")
    }

    /// kNN on frozen random features: nothing trained, and colour alone lets the neighbours vote right.
    @Test func nearestNeighboursVoteOnFrozenFeatures() throws {
        let root = Self.folder("colour-knn")
        defer { try? FileManager.default.removeItem(at: root) }
        let manifest = try Self.colourDataset(root, count: 24)
        let (train, test) = DataSplit.split(manifest, testShare: 0.25, seed: 0)
        var config = Self.config(.knn)
        config.knnNeighbours = 3
        let spec = ModelSpec(name: "scratch", weights: nil, arch: .resnet18, width: 0.125)
        let results = try Evaluation(config: config, models: [spec], threads: 2).run(
            train: train, test: test, output: root.appendingPathComponent("out"))
        let run = try #require(results.runs.first)
        #expect(run.epochs.isEmpty)
        #expect(run.grading?.accuracy == 1, "kNN test accuracy \(run.grading?.accuracy ?? -1)")
    }

    /// Multi-label (a generic label file): "red" and "blue" findings drawn as colour, "healthy"
    /// images with neither; the label set comes from the data and the probe separates both.
    @Test func multiLabelFromAGenericFile() throws {
        let root = Self.folder("multilabel")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("images"), withIntermediateDirectories: true)
        var lines = ["path,labels,quality"]
        for i in 0..<36 {
            let (red, blue) = (i % 3 != 0, i % 3 == 2 || i % 4 == 0)
            var pixels = [UInt8](repeating: 0, count: 40 * 40 * 3)
            for p in 0..<(40 * 40) {
                let noise = UInt8((p * 29 + i * 7) % 30)
                (pixels[p * 3], pixels[p * 3 + 1], pixels[p * 3 + 2]) = ((red ? 190 : 50) + noise, 70 + noise, (blue ? 190 : 50) + noise)
            }
            let name = String(format: "%03d.png", i)
            try Data(PNGEncoder.encode(pixels: pixels, width: 40, height: 40)).write(to: root.appendingPathComponent("images/\(name)"))
            let labels = [red ? "red" : nil, blue ? "blue" : nil].compactMap { $0 }
            lines.append("\(name),\(labels.isEmpty ? "healthy" : labels.joined(separator: "|")),\(i % 5 == 0 ? "low" : "high")")
        }
        try (lines.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("manifest.csv"), atomically: true, encoding: .utf8)
        let manifest = try Manifest.load(ManifestOptions(format: .generic, labels: root.appendingPathComponent("manifest.csv").path))
        let (train, test) = DataSplit.split(manifest, testShare: 0.3, seed: 1)
        let results = try Evaluation(
            config: Self.config(.linear), models: [ModelSpec(name: "scratch", weights: nil, arch: .resnet18, width: 0.125)], threads: 2
        )
        .run(train: train, test: test, output: root.appendingPathComponent("out"))
        #expect(results.task == .multiLabel(labels: ["blue", "red"]))
        let score = try #require(results.runs.first?.multiLabel)
        #expect(score.labels.map(\.label) == ["blue", "red"])
        #expect((score.meanAUC ?? 0) > 0.95, "mean AUC \(score.meanAUC ?? -1)")
        // The written predictions and truth re-score to the same figures.
        let out = root.appendingPathComponent("out")
        guard
            case .multilabel(let again) = try ScoreInput.score(
                truth: out.appendingPathComponent("truth.csv").path,
                predictions: out.appendingPathComponent("predictions/scratch-data.csv").path)
        else {
            Issue.record("re-scored as grading")
            return
        }
        #expect(again.meanAUC == score.meanAUC && again.meanAccuracy == score.meanAccuracy)
    }

    @Test func splitIsStratifiedAndSeeded() throws {
        let root = Self.folder("split")
        defer { try? FileManager.default.removeItem(at: root) }
        let manifest = try Self.colourDataset(root, count: 60)
        let (train, test) = DataSplit.split(manifest, testShare: 0.3, seed: 5)
        #expect(train.entries.count + test.entries.count == 60)
        #expect(Set(train.entries.map(\.image)).isDisjoint(with: test.entries.map(\.image)))
        // Each (grade, quality) group of 10 gives 3 test images.
        for grade in 0..<2 {
            for quality in [ImageQuality.high, .low] {
                let group = manifest.entries.filter { $0.grade == grade && $0.quality == quality }.count
                let held = test.entries.filter { $0.grade == grade && $0.quality == quality }.count
                #expect(held == Int((Double(group) * 0.3).rounded()), "grade \(grade) \(quality): \(held) of \(group)")
            }
        }
        #expect(DataSplit.split(manifest, testShare: 0.3, seed: 5).test.entries.map(\.image) == test.entries.map(\.image))
        #expect(DataSplit.split(manifest, testShare: 0.3, seed: 6).test.entries.map(\.image) != test.entries.map(\.image))
    }

    /// The synthetic benchmark, two models, the sweep to 100 %: files, shares, and the scores
    /// recomputed from the written predictions by `comcl score`'s reader.
    @Test func sweepWritesFilesThatRescoreToTheResults() throws {
        let root = Self.folder("sweep")
        defer { try? FileManager.default.removeItem(at: root) }
        var synth = SyntheticDataset.Config(count: 30)
        (synth.size, synth.seed) = (160, 4)
        try SyntheticDataset(synth).write(to: root.appendingPathComponent("data"))
        let manifest = try Manifest.load(ManifestOptions(format: .eyeq, labels: root.appendingPathComponent("data/labels.csv").path))
        // A "pre-trained" encoder: some seeded weights saved as a checkpoint file would be.
        let weights = root.appendingPathComponent("encoder.safetensors")
        try ModelState.save(
            EncoderModel(.contrastive(arch: .resnet18, width: 0.125), seed: 9), to: weights,
            metadata: ["arch": "resnet18", "width": "0.125"])
        let specs = [
            ModelSpec(name: "pretrained", weights: weights.path, arch: .resnet18, width: 0.125),
            ModelSpec(name: "scratch", weights: nil, arch: .resnet18, width: 0.125),
        ]
        var config = EvaluationConfig()
        (config.imageSize, config.epochs, config.batch, config.sweep) = (48, 1, 8, [1.0])
        let out = root.appendingPathComponent("out")
        let (train, test) = DataSplit.split(manifest, testShare: 0.3, seed: 0)
        let results = try Evaluation(config: config, models: specs, threads: 2).run(train: train, test: test, output: out)

        #expect(results.points.map(\.key) == ["data", "100"])
        #expect(results.runs.count == 4)
        for run in results.runs {
            #expect(run.epochs.count == 1)
            if run.point.target == 1 { #expect(run.trainLowShare == 1 && run.testLowShare == 1) }
            let rescored = try ScoreInput.score(
                truth: out.appendingPathComponent("truth.csv").path, predictions: out.appendingPathComponent(run.predictions).path)
            guard case .grading(let score) = rescored else { Issue.record("not a grading"); continue }
            #expect(score.accuracy == run.grading!.accuracy && score.quadraticKappa == run.grading!.quadraticKappa)
            #expect(score.confusion.counts == run.grading!.confusion.counts)
        }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("results.json").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("data/100/test/labels.csv").path))

        // The report and its pictures, which decode as PNGs.
        var extras = ReportExtras()
        extras.pretraining = [("pretrained", [(1, 5.0), (2, 4.0), (3, 3.5)])]
        let sample = try PatchSample.cut(from: test, perLevel: 3, seed: 0, detectionCache: nil, normalization: .imageNet, threads: 2)
        extras.embeddings = try specs.map { ($0.name, try sample.project($0, seed: 0)) }
        let report = try EvaluationReport.write(results, extras: extras, to: out)
        let text = try String(contentsOf: report, encoding: .utf8)
        for png in ["pretraining-loss", "classifier-loss", "confusion-data", "confusion-100", "embeddings"] {
            #expect(text.contains("plots/\(png).png"), "report links \(png)")
            let image = try ImageDecoder.decode(contentsOf: out.appendingPathComponent("plots/\(png).png").path)
            #expect(image.width >= 400 && image.height >= 300)
        }

        // The same seed and config give the same predictions.
        let again = try Evaluation(config: config, models: specs, threads: 1).run(
            train: train, test: test, output: root.appendingPathComponent("again"))
        for run in results.runs {
            let a = try String(contentsOf: out.appendingPathComponent(run.predictions), encoding: .utf8)
            let b = try String(contentsOf: root.appendingPathComponent("again").appendingPathComponent(run.predictions), encoding: .utf8)
            #expect(a == b, "\(run.predictions) differs between runs")
        }
        #expect(again.runs.map { $0.grading!.accuracy } == results.runs.map { $0.grading!.accuracy })
    }
}
