import Basics
import Datasets
import Encoder
import Foundation
import Wire

/// One whole evaluation, as `comcl evaluate` runs it in-process and the evaluator service runs it
/// for a coordinator (EvaluationRequest carries the same fields): the data, the encoders, the
/// config, where to write. Codable: a coordinator reads it from a job file.
public struct EvaluationJob: Codable, Sendable, Equatable {
    public var labels: String
    public var format = ManifestFormat.eyeq
    public var images: String?
    public var quality: String?
    /// A separate test split; nil: `labels` is split (config.testShare).
    public var testLabels: String?
    /// Each a run folder (its latest checkpoint) or a safetensors file; an empty path: from scratch.
    public var models: [Model]
    /// For weight files that do not say (torchvision's); a from-scratch model takes the first
    /// other model's architecture, else this one.
    public var arch = ResNetArch.resnet18
    public var width = 1.0
    public var config = EvaluationConfig()
    public var output: String
    /// Patches per level whose embeddings the report projects with t-SNE; 0: none.
    public var embeddingPatches = 60

    public struct Model: Codable, Sendable, Equatable {
        public var name: String
        public var path: String
        public init(name: String, path: String = "") { (self.name, self.path) = (name, path) }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(name: try c.decode(String.self, forKey: .name), path: try c.decodeIfPresent(String.self, forKey: .path) ?? "")
        }
    }

    public init(labels: String, models: [Model], output: String) {
        (self.labels, self.models, self.output) = (labels, models, output)
    }

    /// A job file names labels, models and output; everything else may be left to its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            labels: try c.decode(String.self, forKey: .labels), models: try c.decode([Model].self, forKey: .models),
            output: try c.decode(String.self, forKey: .output))
        format = try c.decodeIfPresent(ManifestFormat.self, forKey: .format) ?? format
        (images, quality, testLabels) = (
            try c.decodeIfPresent(String.self, forKey: .images), try c.decodeIfPresent(String.self, forKey: .quality),
            try c.decodeIfPresent(String.self, forKey: .testLabels)
        )
        arch = try c.decodeIfPresent(ResNetArch.self, forKey: .arch) ?? arch
        width = try c.decodeIfPresent(Double.self, forKey: .width) ?? width
        config = try c.decodeIfPresent(EvaluationConfig.self, forKey: .config) ?? config
        embeddingPatches = try c.decodeIfPresent(Int.self, forKey: .embeddingPatches) ?? embeddingPatches
    }

    /// What the evaluator did: the results, their table, the report's path.
    public struct Outcome: Sendable {
        public var results: EvaluationResults
        public var table: String
        public var report: URL
    }

    /// How job files are written: pretty, keys sorted.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }

    // MARK: the wire form

    public init(_ request: EvaluationRequest) throws(EvaluationError) {
        guard let format = ManifestFormat(rawValue: request.format) else {
            throw .config("format \"\(request.format)\": expected \(ManifestFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.init(labels: request.labels, models: request.models.map { Model(name: $0.name, path: $0.path) }, output: request.output)
        self.format = format
        func given(_ s: String) -> String? { s.isEmpty ? nil : s }
        (images, quality, testLabels) = (given(request.images), given(request.quality), given(request.testLabels))
        if !request.arch.isEmpty {
            guard let arch = ResNetArch(rawValue: request.arch) else {
                throw .config("arch \"\(request.arch)\" is not one of \(ResNetArch.allCases.map(\.rawValue))")
            }
            self.arch = arch
        }
        width = request.width
        embeddingPatches = request.embeddingPatches
        if !request.config.isEmpty {
            do { config = try JSONDecoder().decode(EvaluationConfig.self, from: Data(request.config.utf8)) } catch {
                throw .config("the request's config is not an EvaluationConfig: \(error)")
            }
        }
    }

    public func request(id: WorkID) -> EvaluationRequest {
        var r = EvaluationRequest(
            id: id, labels: labels, format: format.rawValue, models: models.map { EncoderSource(name: $0.name, path: $0.path) },
            output: output)
        (r.images, r.quality, r.testLabels) = (images ?? "", quality ?? "", testLabels ?? "")
        (r.arch, r.width, r.embeddingPatches) = (arch.rawValue, width, embeddingPatches)
        r.config = String(decoding: try! JSONEncoder().encode(config), as: UTF8.self)
        return r
    }

    // MARK: running it

    /// Checks everything that can be checked before any training: config, data, models.
    public func prepare() throws(EvaluationError) -> (specs: [ModelSpec], train: Manifest, test: Manifest) {
        try config.validate()
        guard !models.isEmpty else { throw .config("no encoder to evaluate") }
        let resolved = try models.filter { !$0.path.isEmpty }.map { model throws(EvaluationError) in
            try ModelSpec.resolve(model, arch: arch, width: width)
        }
        var specs: [ModelSpec] = []
        for model in models {
            if model.path.isEmpty {
                specs.append(
                    ModelSpec(name: model.name, weights: nil, arch: resolved.first?.arch ?? arch, width: resolved.first?.width ?? width))
            } else {
                specs.append(resolved.first { $0.name == model.name }!)
            }
        }
        let all = try load(labels, images: images)
        guard let testLabels else {
            let (train, test) = DataSplit.split(all, testShare: config.testShare, seed: config.seed)
            return (specs, train, test)
        }
        return (specs, all, try load(testLabels, images: nil))
    }

    private func load(_ file: String, images: String?) throws(EvaluationError) -> Manifest {
        do { return try Manifest.load(ManifestOptions(format: format, labels: file, images: images, quality: quality)) } catch {
            throw .data("\(error)")
        }
    }

    /// Trains and scores every model at every sweep point, writes results.json, the CSVs and
    /// report.md with its plots into `output`. `log` gets one line per epoch and per result.
    public func run(threads: Int, log: @escaping (String) -> Void) throws -> Outcome {
        let (specs, train, test) = try prepare()
        let output = URL(fileURLWithPath: self.output)
        log(
            "evaluating \(specs.map(\.name).joined(separator: ", ")): \(config.transferSummary), \(config.imageSize) px; "
                + "\(train.entries.count) training and \(test.entries.count) test images; sweep \(config.sweep) (\(config.sweepSplits.rawValue) splits)"
        )
        let results = try Evaluation(config: config, models: specs, threads: threads, log: log).run(
            train: train, test: test, output: output)
        let table = ResultsTable.markdown(results)
        let report = try EvaluationReport.write(
            results, extras: try extras(specs, test: test, output: output, threads: threads, log: log), to: output)
        return Outcome(results: results, table: table, report: report)
    }

    /// Pre-training curves of the models that came from a run folder, and the t-SNE of patch
    /// embeddings of every model.
    func extras(_ specs: [ModelSpec], test: Manifest, output: URL, threads: Int, log: (String) -> Void) throws -> ReportExtras {
        var extras = ReportExtras()
        let runs = specs.compactMap { spec in spec.runFolder.map { (spec.name, $0) } }
        for (name, run) in runs {
            let curve = Self.lossCurve(run.appendingPathComponent("metrics.jsonl"))
            if !curve.isEmpty { extras.pretraining.append((name, curve)) }
        }
        guard embeddingPatches > 0 else { return extras }
        log("embedding \(embeddingPatches) patches per level with each encoder (t-SNE)")
        // A pre-training run's detection cache holds these images' boxes already.
        let cache = runs.first.map { $0.1.appendingPathComponent("detections") } ?? output.appendingPathComponent("detections")
        let sample: PatchSample
        // Patches are normalised as pre-training normalised its views (the recipes: ImageNet
        // statistics) unless the evaluation names a normalisation.
        do {
            sample = try PatchSample.cut(
                from: test, perLevel: embeddingPatches, seed: config.seed, detectionCache: cache,
                normalization: config.normalization ?? .imageNet, threads: threads)
        } catch {
            // The results are written by now; a picture that cannot be made must not lose them.
            log("patch embeddings left out of the report: \(error)")
            return extras
        }
        for spec in specs {
            extras.embeddings.append(
                (spec.weights == nil ? "\(spec.name) (random init)" : spec.name, try sample.project(spec, seed: config.seed)))
        }
        extras.embeddingsCaption =
            "Pooled backbone features (before any head) of \(sample.levels.count) patches of the test split, cut as the detector/cropper "
            + "cuts them for training (lesion images: a window on a detected lesion; healthy: a random window), projected with exact t-SNE "
            + "(perplexity 30, 1000 iterations); one colour per level. The pre-trained encoders, before fine-tuning."
        return extras
    }
}

extension ModelSpec {
    /// The run folder a checkpoint's weights came from (`<run>/checkpoints/step-N/model.safetensors`).
    public var runFolder: URL? {
        guard let weights else { return nil }
        let run = URL(fileURLWithPath: weights).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return FileManager.default.fileExists(atPath: run.appendingPathComponent("metrics.jsonl").path) ? run : nil
    }

    /// A run folder (its latest checkpoint) or a safetensors file (ours, or torchvision-named
    /// weights). The architecture comes from the file's metadata, which our checkpoints carry,
    /// else from `arch` / `width`.
    public static func resolve(_ model: EvaluationJob.Model, arch: ResNetArch, width: Double) throws(EvaluationError) -> ModelSpec {
        let (name, path) = (model.name, model.path)
        guard EncoderSource.isValidName(name) else {
            throw .model("model name \"\(name)\": 1-64 letters, digits, - and _ (it names files)")
        }
        var file = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw .model("\(name): \(path) does not exist") }
        if isFolder.boolValue {
            let checkpoint: URL?
            do { checkpoint = try CheckpointLayout.latest(file) } catch { throw .model("\(name): \(path): \(error)") }
            guard let checkpoint else { throw .model("\(name): \(path) holds no checkpoint (checkpoints/latest)") }
            file = checkpoint.appendingPathComponent("model.safetensors")
        }
        let metadata: [String: String]
        do { metadata = try SafeTensors(contentsOf: file).metadata } catch { throw .model("\(name): \(file.path): \(error)") }
        let a = metadata["arch"].flatMap(ResNetArch.init(rawValue:)) ?? arch
        let w = metadata["width"].flatMap(Double.init) ?? width
        return ModelSpec(name: name, weights: file.path, arch: a, width: w)
    }
}

extension EvaluationJob {
    /// (step, loss) of each record of a pre-training run's metrics.jsonl, read as plain JSON (its
    /// `step` and `loss` fields), so the evaluation does not link the training code for a chart.
    static func lossCurve(_ metrics: URL) -> [(Double, Double)] {
        LineFollower(metrics).newLineData().compactMap { line in
            guard let record = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                let step = record["step"] as? Int, let loss = record["loss"] as? Double
            else { return nil }
            return (Double(step + 1), loss)
        }
    }
}
