import Foundation
import TensorBoard

extension StepRecord {
    /// The step's scalars, under the tags its TensorBoard events and metrics.csv's columns carry,
    /// in a fixed order (the pairings in the loss's order).
    public var scalars: [(tag: String, value: Double)] {
        var values = [("loss/total", loss)]
        for p in pairings {
            values += [
                ("loss/\(p.pairing)", p.loss), ("hard_negatives/\(p.pairing)", Double(p.k)), ("anchors/\(p.pairing)", Double(p.selected)),
            ]
            if let positive = p.positiveCosine, let negative = p.negativeCosine {
                values += [("cosine/\(p.pairing)/positive", positive), ("cosine/\(p.pairing)/negative", negative)]
            }
        }
        if let similarity { values += [("cosine/positive", similarity.positive), ("cosine/other", similarity.other)] }
        if let learningRate { values.append(("learning_rate", learningRate)) }
        values += [
            ("patches_per_second", patchesPerSecond), ("busy/workers", workerBusy), ("busy/coordinator", coordinatorShare),
            ("seconds/step", times.total),
        ]
        return values
    }
}

/// The step records as the usual tools read them (docs/training.md): TensorBoard event files in
/// `<run>/tensorboard/` (one per start of the run) and a flat `<run>/metrics.csv`, one row per
/// step, its header written once (a resumed run appends rows under it).
final class ScalarLogs {
    private let events: EventFileWriter
    private let csv: FileHandle
    private var columns: [String]?

    init(run folder: URL) throws {
        events = try EventFileWriter(folder: folder.appendingPathComponent("tensorboard"))
        let url = folder.appendingPathComponent("metrics.csv")
        if let header = try? String(contentsOf: url, encoding: .utf8).split(separator: "\n").first {
            columns = Array(header.split(separator: ",").dropFirst(2).map(String.init))
        } else {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        csv = try FileHandle(forWritingTo: url)
        try csv.seekToEnd()
    }

    deinit { try? csv.close() }

    func append(_ record: StepRecord, wallTime: Double = Date().timeIntervalSince1970) throws {
        let scalars = record.scalars
        try events.scalars(scalars, step: record.step + 1, wallTime: wallTime)
        var text = ""
        if columns == nil {
            columns = scalars.map(\.tag)
            text += (["step", "wall_time"] + columns!).joined(separator: ",") + "\n"
        }
        let byTag = Dictionary(scalars, uniquingKeysWith: { a, _ in a })
        let row = [String(record.step + 1), String(format: "%.3f", wallTime)] + columns!.map { byTag[$0].map { "\($0)" } ?? "" }
        text += row.joined(separator: ",") + "\n"
        try csv.write(contentsOf: Data(text.utf8))
    }
}

/// The run's state in Prometheus's text exposition format (version 0.0.4), for the coordinator's
/// opt-in `/metrics` (docs/training.md): the last step's gauges (names in base units, a pairing
/// as a label) and the faults absorbed since the coordinator started, as counters.
public enum PrometheusText {
    public static func exposition(_ record: StepRecord, faults: [String: Int]) -> String {
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            lines += ["# HELP comcl_\(name) \(help)", "# TYPE comcl_\(name) \(type)"]
            lines += samples.map { "comcl_\(name)\($0.labels.isEmpty ? "" : "{\($0.labels)}") \(number($0.value))" }
        }
        func pairing(_ p: StepRecord.PairingRecord) -> String { "pairing=\"\(escaped(p.pairing))\"" }
        metric("step", "gauge", "Steps done.", [("", Double(record.step + 1))])
        metric("steps", "gauge", "Steps the run takes.", [("", Double(record.steps))])
        metric("loss", "gauge", "The last step's loss, every pairing together.", [("", record.loss)])
        metric("pairing_loss", "gauge", "The last step's loss of each pairing.", record.pairings.map { (pairing($0), $0.loss) })
        metric("pairing_hard_negatives", "gauge", "K_t: negatives per anchor kept.", record.pairings.map { (pairing($0), Double($0.k)) })
        metric(
            "pairing_anchors_selected", "gauge", "Anchors the self-paced schedule selected.",
            record.pairings.map { (pairing($0), Double($0.selected)) })
        if let similarity = record.similarity {
            metric(
                "cosine", "gauge", "Mean cosine of positive pairs and of other pairs.",
                [("pair=\"positive\"", similarity.positive), ("pair=\"other\"", similarity.other)])
        }
        if let rate = record.learningRate { metric("learning_rate", "gauge", "Adam's rate in the last step.", [("", rate)]) }
        metric("patches_per_second", "gauge", "Patches per second since the run started.", [("", record.patchesPerSecond)])
        metric("worker_busy_ratio", "gauge", "Embedding workers' compute share of the last step.", [("", record.workerBusy)])
        metric("coordinator_cpu_ratio", "gauge", "The coordinator's CPU share of the last step.", [("", record.coordinatorShare)])
        metric("step_seconds", "gauge", "The last step's wall time.", [("", record.times.total)])
        metric("embedding_workers", "gauge", "Shards (embedding workers) of the last step.", [("", Double(record.workers))])
        metric(
            "faults_total", "counter", "What the run absorbed since the coordinator started, by kind.",
            faults.sorted { $0.key < $1.key }.map { ("kind=\"\(escaped($0.key))\"", Double($0.value)) })
        return lines.joined(separator: "\n") + "\n"
    }

    private static func escaped(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(
            of: "\n", with: "\\n")
    }

    private static func number(_ value: Double) -> String {
        value.isNaN ? "NaN" : value.isInfinite ? (value > 0 ? "+Inf" : "-Inf") : "\(value)"
    }
}
