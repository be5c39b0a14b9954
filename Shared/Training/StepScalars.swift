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
