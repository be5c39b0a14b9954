import ArgumentParser
import Basics
import Encoder
import Evaluation
import Foundation
import Training

/// `comcl ablation`: the paper's Table 2 (Baseline, Basic CL, w/o multi-level, w/o SPL, CoMCL)
/// and Table 3 (level combinations) on the synthetic benchmark, each pre-trained with several
/// seeds and linear-probed (or fine-tuned) at the data's low-quality share; mean +- sd over seeds.
struct AblationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablation",
        abstract:
            "The paper's ablation (Table 2 rows and Table 3 level combinations) on the synthetic benchmark, over several seeds: mean +- sd of kappa and accuracy.",
        discussion:
            "Outputs: <out>/seed-<s>/<variant> (each pre-training run), <out>/seed-<s>/evaluation (results.json, report.md), <out>/ablation.md (the table)."
    )

    @Option(help: "Output folder.") var out = "runs/ablation"
    @Option(help: "Dataset folder; the synthetic benchmark is written there if it has no labels.csv (default: <out>/data).") var data:
        String?
    @Option(help: "Seeds, comma-separated: each pre-trains every variant and evaluates them on its own split.") var seeds = "0,1,2"
    @Option(
        help:
            "Table 2's pre-trained rows, comma-separated (the Baseline, from scratch, is always there): \(TrainingMode.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var modes = "basic-cl,no-multilevel,no-spl,comcl"
    @Option(help: "Table 3's level combinations: CoMCL with only these pairings; combinations separated by ';', pairings by ','.")
    var combinations = "L-H;L-H,L-L~"
    @Option(help: "Low-quality shares to score besides the data's own, comma-separated (the paper's ablation: none; its Figure 4: 0.7,1).")
    var sweep = ""
    @Option(
        help:
            "reference: the method's reference comparison, Baseline, Basic CL and CoMCL over seeds 0,1,2 at the data's share, 70 % and 100 %, 2,500 steps of 256 patches (sets --modes, --combinations, --sweep, --seeds, --steps and --batch; README \"Ablation\")."
    )
    var preset: Preset?

    enum Preset: String, ExpressibleByArgument, CaseIterable { case reference }
    @OptionGroup(title: "Scale") var scale: ScaleOptions

    /// One pre-trained row.
    struct Variant {
        let name: String  // a model name: letters, digits, - and _
        let label: String
        let mode: TrainingMode
        let pairings: [String]
    }

    /// The options a preset sets, else the flags.
    var plan: (modes: String, combinations: String, sweep: String, seeds: String) {
        switch preset {
        case .reference: ("basic-cl,comcl", "", "0.7,1", "0,1,2")
        case nil: (modes, combinations, sweep, seeds)
        }
    }

    /// The scale a preset sets, else the flags'. The reference's 2,500 steps of 256 patches: the
    /// smallest pre-training at which CoMCL met every target over three seeds (README "Ablation";
    /// 1,500 of 128 left it within reach of the baseline at the data's share).
    var plannedScale: ScaleOptions {
        get throws {
            var planned = scale
            guard preset == .reference else { return planned }
            let defaults = try ScaleOptions.parse([])
            guard (scale.steps, scale.batch) == (defaults.steps, defaults.batch) else {
                throw ValidationError(
                    "--preset reference sets --steps 2500 and --batch 256: leave both out, or drop the preset to choose them")
            }
            (planned.steps, planned.batch) = (2500, 256)
            return planned
        }
    }

    var variants: [Variant] {
        get throws {
            var list: [Variant] = try plan.modes.split(separator: ",").map { text in
                guard let mode = TrainingMode(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError(
                        "--modes: \"\(text)\" is not one of \(TrainingMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return Variant(name: mode.rawValue, label: Self.labels[mode]!, mode: mode, pairings: [])
            }
            for combination in plan.combinations.split(separator: ";") {
                let pairings = combination.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let name =
                    "levels-"
                    + pairings.map { $0.replacingOccurrences(of: "~", with: "t").replacingOccurrences(of: "-", with: "") }.joined(
                        separator: "-")
                list.append(
                    Variant(name: name, label: "CoMCL, " + pairings.joined(separator: " + ") + " only", mode: .comcl, pairings: pairings))
            }
            return list
        }
    }

    static let labels: [TrainingMode: String] = [
        .basicCL: "Basic CL", .noMultilevel: "w/o multi-level", .noSPL: "w/o SPL", .comcl: "CoMCL",
    ]

    func run() throws {
        let started = Date()
        let scale = try plannedScale
        let seedList = try plan.seeds.split(separator: ",").map { text in
            guard let seed = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--seeds: \"\(text)\" is not a seed")
            }
            return seed
        }
        guard !seedList.isEmpty else { throw ValidationError("--seeds: give at least one") }
        let variants = try variants
        let root = URL(fileURLWithPath: out)
        let manifest = try SyntheticBenchmark.ensure(
            data.map { URL(fileURLWithPath: $0) } ?? root.appendingPathComponent("data"), images: scale.images, size: scale.size, seed: 0)
        // Every run pre-trains on the same images: one detection cache serves them all.
        let detections = root.appendingPathComponent("detections")
        try scale.warmDetections(detections, for: manifest)
        let shares = try EvaluationOptions.shares(plan.sweep)
        // Per row (Baseline first), per share ("data", "070", "100"), per seed: (kappa, accuracy).
        var scores: [String: [String: [(Double, Double)]]] = [:]
        for (index, seed) in seedList.enumerated() {
            let folder = root.appendingPathComponent("seed-\(seed)")
            for variant in variants {
                let runFolder = folder.appendingPathComponent(variant.name)
                var config = try scale.trainingConfig(run: variant.name, seed: seed)
                (config.mode, config.pairings) = (variant.mode, variant.pairings)
                do { try config.validate() } catch { throw ValidationError("\(variant.name): \(error)") }
                // A run an earlier (interrupted) ablation finished with this very config is kept.
                if try Self.finished(runFolder, config) {
                    print("== seed \(seed): \(variant.label) already pre-trained in \(runFolder.path)")
                    continue
                }
                try ScaleOptions.clear([runFolder])
                print(
                    "== seed \(seed) (\(index + 1)/\(seedList.count)): pre-training \(variant.label) (\(Self.elapsed(since: started)) so far)"
                )
                // Pre-training sees this seed's evaluation training split only.
                let pretraining = try SyntheticBenchmark.trainingSplit(manifest, testShare: EvaluationConfig().testShare, seed: seed)
                var local = try scale.localTraining(config, folder: runFolder, manifest: pretraining)
                local.detectionCache = detections.path
                local.progressEvery = 50
                try local.run()
            }
            let evaluationFolder = folder.appendingPathComponent("evaluation")
            var job = EvaluationJob(
                labels: manifest.labelFile,
                models: [EvaluationJob.Model(name: "baseline")]
                    + variants.map { EvaluationJob.Model(name: $0.name, path: folder.appendingPathComponent($0.name).path) },
                output: evaluationFolder.path)
            (job.arch, job.width, job.config, job.embeddingPatches) = (scale.arch, scale.width, try scale.evaluationConfig(seed: seed), 0)
            job.config.sweep = shares  // the paper's ablation: none, the data's own share only
            let seedScores: SeedScores
            // An evaluation an earlier (interrupted) ablation finished for this very job is kept.
            if let kept = SeedScores.load(evaluationFolder, job: job) {
                print("== seed \(seed): \(job.models.count) encoders already evaluated in \(evaluationFolder.path)")
                seedScores = kept
            } else {
                try ScaleOptions.clear([evaluationFolder])
                print("== seed \(seed): evaluating \(job.models.count) encoders")
                let outcome = try job.run(threads: ProcessInfo.processInfo.activeProcessorCount) { line in
                    if !line.hasPrefix("  ") { print("  \(line)"); fflush(nil) }
                }
                seedScores = try SeedScores(outcome.results, job: job)
                try seedScores.save(evaluationFolder)
            }
            for (model, byShare) in seedScores.scores {
                for (share, score) in byShare { scores[model, default: [:]][share, default: []].append((score[0], score[1])) }
            }
        }
        let rows = [("baseline", "Baseline (from scratch)")] + variants.map { ($0.name, $0.label) }
        // SweepPoint's keys: "data", then "070", "100".
        let keys = ["data"] + shares.sorted().map { String(format: "%03d", Int(($0 * 100).rounded())) }
        let table = Self.table(rows: rows, scores: scores, points: keys)
        let p = plan
        let text =
            table
            + "\n\n\(seedList.count) seeds (\(p.seeds)); \(scale.images) images of \(scale.size) px; \(scale.arch.rawValue) x\(scale.width), "
            + "\(scale.steps) steps of \(scale.batch) patches, K_min \(scale.kMin), recipe \(scale.recipe), detector \(scale.detector); "
            + "\(scale.transfer.rawValue) transfer, "
            + "\(scale.epochs) epochs at \(scale.imageSize) px; \(Self.elapsed(since: started)).\n"
        try text.write(to: root.appendingPathComponent("ablation.md"), atomically: true, encoding: .utf8)
        print("\n== ablation (\(Self.elapsed(since: started)))\n\(text)")
    }

    /// Mean +- sample standard deviation over seeds: kappa at each share, the drop from the data's
    /// share to the last (per seed), and accuracy at the data's share.
    static func table(rows: [(name: String, label: String)], scores: [String: [String: [(Double, Double)]]], points: [String]) -> String {
        func summary(_ values: [Double]) -> String {
            guard !values.isEmpty else { return "n/a" }
            let mean = values.reduce(0, +) / Double(values.count)
            guard values.count > 1 else { return String(format: "%.3f", mean) }
            let sd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
            return String(format: "%.3f ± %.3f", mean, sd)
        }
        func name(_ key: String) -> String { key == "data" ? "data's share" : "\(Int(key)!) %" }
        let last = points.count > 1 ? points.last : nil
        var header = "| method | " + points.map { "kappa, \(name($0))" }.joined(separator: " | ")
        header += (last.map { " | drop to \(name($0))" } ?? "") + " | accuracy, data's share |"
        var lines = [header, "|" + String(repeating: "---|", count: points.count + (last == nil ? 2 : 3))]
        for (row, label) in rows {
            let s = scores[row] ?? [:]
            var line = "| \(label) | " + points.map { summary((s[$0] ?? []).map(\.0)) }.joined(separator: " | ")
            if let last { line += " | " + summary(zip(s["data"] ?? [], s[last] ?? []).map { $1.0 - $0.0 }) }
            lines.append(line + " | \(summary((s["data"] ?? []).map(\.1))) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Whether `folder` holds a run of `config` through its last step.
    static func finished(_ folder: URL, _ config: TrainingConfig) throws -> Bool {
        guard let saved = try? Data(contentsOf: folder.appendingPathComponent("config.json")),
            (try? JSONDecoder().decode(TrainingConfig.self, from: saved)) == config,
            let checkpoint = try? Checkpoint.latest(folder)
        else { return false }
        return checkpoint.lastPathComponent == String(format: "step-%06d", config.steps)
    }

    static func elapsed(since start: Date) -> String { DemoCommand.duration(Date().timeIntervalSince(start)) }
}

/// One seed's evaluation as the ablation needs it, kept beside the evaluation's files so an
/// interrupted campaign does not evaluate a finished seed again: per model and share key,
/// [kappa, accuracy], and the job they answer.
struct SeedScores: Codable {
    var job: EvaluationJob
    var scores: [String: [String: [Double]]]

    static let file = "ablation-scores.json"

    init(_ results: EvaluationResults, job: EvaluationJob) throws {
        self.job = job
        scores = [:]
        for run in results.runs {
            guard let grading = run.grading else {
                throw Problem("the ablation scores DR grading; \(job.labels) is not a grading set")
            }
            // Kappa is undefined only when truth and predictions are one grade; the split holds all five.
            scores[run.model, default: [:]][run.point.key] = [grading.quadraticKappa ?? 0, grading.accuracy]
        }
    }

    static func load(_ folder: URL, job: EvaluationJob) -> SeedScores? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(file)),
            let kept = try? JSONDecoder().decode(SeedScores.self, from: data), kept.job == job
        else { return nil }
        return kept
    }

    func save(_ folder: URL) throws {
        try AtomicFile.write(try EvaluationJob.encoder.encode(self), to: folder.appendingPathComponent(Self.file))
    }
}
