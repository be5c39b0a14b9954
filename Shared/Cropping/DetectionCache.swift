import Basics
import Datasets
import Foundation

/// Detections kept on disk, one JSON file per (detector, image content): detection is costly and
/// deterministic, so it runs once per dataset (docs/architecture.md section 2). Keys are hashes, so renaming
/// or moving an image keeps its detections and editing it does not. Several cropper processes
/// may share a cache folder: writes are atomic, and two processes racing on one image both
/// compute the same boxes.
public struct DetectionCache: Sendable {
    public let folder: URL

    public init(folder: URL, detectorIdentity: String) {
        self.folder = folder.appendingPathComponent(ContentHash.hex(Array(detectorIdentity.utf8)))
    }

    private struct Entry: Codable {
        var detector: String
        var boxes: [LesionBox]
    }

    public func boxes(forContent key: String) -> [LesionBox]? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("\(key).json")) else { return nil }
        // An unreadable entry (a crash mid-write cannot leave one, a hand edit can) is recomputed.
        return try? JSONDecoder().decode(Entry.self, from: data).boxes
    }

    public func store(_ boxes: [LesionBox], forContent key: String, detector: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFile.write(
            try JSONEncoder().encode(Entry(detector: detector, boxes: boxes)), to: folder.appendingPathComponent("\(key).json"))
    }
}
