import Contrastive
import Foundation

/// One line of `metrics.jsonl`: what a step did and where its time went.
public struct StepRecord: Codable, Sendable {
    public struct PairingRecord: Codable, Sendable {
        public var pairing: String
        public var loss: Double
        /// K_t, negatives per anchor kept (of `negatives`).
        public var k: Int
        public var negatives: Int
        public var anchors: Int
        public var selected: Int
        /// The pairing's mean anchor-positive and anchor-negative cosines (`PairingOutcome`);
        /// optional: metrics written before they existed still read.
        public var positiveCosine: Double?
        public var negativeCosine: Double?
    }

    /// Seconds per phase (docs/training.md).
    public struct Times: Codable, Sendable {
        /// Waiting for the step's views after the previous step ended (0 when prefetch kept up).
        public var waitViews = 0.0
        /// First forward request sent -> last embeddings in (includes the weights transfer).
        public var forward = 0.0
        /// The slowest shard's compute on its worker (the rest of `forward` is transfers,
        /// decoding and loading the state).
        public var forwardCompute = 0.0
        public var loss = 0.0
        /// Backward requests sent -> every shard's outcome in (backward, the sum, Adam).
        public var backward = 0.0
        public var backwardCompute = 0.0
        /// Summing the step's gradient: the longest a worker waited for its peers' parts (a
        /// relayed step: the coordinator's sum). Within `backward`, which also holds Adam.
        public var aggregate = 0.0
        /// Coordinator work outside the phases above that the workers wait for: the state to
        /// publish (shard inputs are built while the workers compute the previous step).
        public var other = 0.0
        /// Taking a checkpoint (every --checkpoint-every steps and at the end); the files are
        /// written in the background.
        public var checkpoint = 0.0
        public var total = 0.0
    }

    public var step: Int
    public var steps: Int
    /// Patches in the step.
    public var batch: Int
    public var loss: Double
    public var pairings: [PairingRecord]
    /// Mean cosine of positive pairs and of other pairs (`Similarity`); optional for older metrics.
    public var similarity: Similarity?
    /// Adam's rate this step (the schedule's); optional for older metrics.
    public var learningRate: Double?
    public var patchesPerSecond: Double
    public var etaSeconds: Double
    public var times: Times
    /// Worker compute seconds / (workers x step seconds).
    public var workerBusy: Double
    /// The coordinator process's CPU seconds in the step (decoding, loss, aggregation, Adam,
    /// encoding: everything), checkpoint writing left out, / step seconds.
    public var coordinatorShare: Double
    public var workers: Int
    public var attempts: Int
    public var replaced: Int
    /// Lesion patches from detections against random crops, items skipped by reason
    /// (`PatchSources`); optional for older metrics.
    public var sources: PatchSources?
    public var checksum: String
    /// The batch's digest (`StepViews.digest`, hex): one seed and config give the same digest
    /// per step whatever the workers did, which is how a run shows no item lost or used twice.
    /// Optional: metrics written before it existed still read.
    public var items: String?
    public var faults: Faults?
    /// Bytes the coordinator received and sent on each link (by role) since the previous
    /// record: what a step costs the hub. Optional: metrics written before it existed still read.
    public var linkBytes: [String: LinkBytes]?

    public struct LinkBytes: Codable, Sendable, Equatable {
        public var received = 0
        public var sent = 0

        public init(received: Int = 0, sent: Int = 0) { (self.received, self.sent) = (received, sent) }
        public var total: Int { received + sent }
    }

    /// What the coordinator's links saw go wrong since the previous record (README, Reliability).
    public struct Faults: Codable, Sendable, Equatable {
        /// Workers that left (silent past the liveness, or said goodbye), by role.
        public var workersLeft: [String: Int] = [:]
        /// Items re-issued to another worker because theirs was lost or missed its deadline.
        public var reissued = 0
        /// Results for an item already answered, dropped by the link.
        public var duplicates = 0
        /// Results the pipeline dropped: for an attempt since re-planned, a step already taken,
        /// or a slot already filled.
        public var dropped = 0
        /// View pairs made again because the augmenter keeping them left or a worker could not
        /// fetch them (the data plane). Optional: metrics written before it existed still read.
        public var viewsRemade: Int? = 0
        /// Patches cut again because the cropper keeping them could not be reached (the data
        /// plane). Optional, as above.
        public var patchesRecut: Int? = 0
        /// Steps taken again because every replica holding the weights was lost at once: the run
        /// went on from the coordinator's last copy (docs/training.md). Optional, as above.
        public var stepsTakenAgain: Int? = 0

        public init() {}
    }

    init(step: Int, steps: Int, batch: Int, outcome: LossOutcome) {
        (self.step, self.steps, self.batch, loss) = (step, steps, batch, outcome.total)
        pairings = outcome.pairings.map {
            PairingRecord(
                pairing: "\($0.pairing)", loss: $0.loss, k: $0.hardNegatives, negatives: $0.negatives, anchors: $0.anchors,
                selected: $0.selected.count,
                positiveCosine: $0.positiveCosine, negativeCosine: $0.negativeCosine)
        }
        similarity = outcome.similarity
        (patchesPerSecond, etaSeconds, times, workerBusy, coordinatorShare) = (0, 0, Times(), 0, 0)
        (workers, attempts, replaced, checksum) = (0, 1, 0, "")
    }

    /// Reads a metrics.jsonl line.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    /// The live progress line.
    public var progressLine: String {
        let parts = pairings.map { "\($0.pairing) \(String(format: "%.3f", $0.loss)) K \($0.k) anchors \($0.selected)/\($0.anchors)" }
        let cosines = similarity.map { String(format: "  cos pos %.2f other %.2f", $0.positive, $0.other) } ?? ""
        let detected = sources.map { $0.lesionPatches > 0 ? "  boxes \($0.lesionFromDetection)/\($0.lesionPatches)" : "" } ?? ""
        return String(format: "step %d/%d  loss %.4f  [", step + 1, steps, loss) + parts.joined(separator: "; ") + "]" + cosines + detected
            + String(format: "  %.1f patches/s  busy %.0f%%  ETA %@", patchesPerSecond, workerBusy * 100, Self.duration(etaSeconds))
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

/// Appends step records to the run's `metrics.jsonl`, one JSON object per line, flushed each step.
final class MetricsLog {
    private let handle: FileHandle
    private let encoder = JSONEncoder()

    init(_ url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
    }

    deinit { try? handle.close() }

    func append(_ record: StepRecord) throws {
        try handle.write(contentsOf: try encoder.encode(record) + Data("\n".utf8))
    }
}
