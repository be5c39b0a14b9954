import Datasets
import Foundation
import Images

/// Images the cropper has already decoded, resized and detected, kept in memory up to a byte
/// budget, least recently used dropped first. A training run cuts each image many times (every
/// step draws B/4 images per level), and decoding a PNG, hashing it and reading its cached
/// detections cost the demo's cropper about 3 ms a patch: more than the rest of the patch.
/// An entry is keyed by path, size and modification time, so an image edited on disk is read
/// again; what is cut from an entry is what would be cut from the file.
public final class ImageMemory: @unchecked Sendable {
    public struct Entry: Sendable {
        public var image: RGBImage
        /// The same image at 16 bits, for a source deeper than 8 bits (what is cut and sent).
        public var wide: RGB16Image?
        /// The detection cache's key for the file's bytes.
        public var contentKey: String
        /// The image's lesion boxes, once detected.
        public var boxes: [LesionBox]?

        public init(image: RGBImage, wide: RGB16Image? = nil, contentKey: String, boxes: [LesionBox]? = nil) {
            (self.image, self.wide, self.contentKey, self.boxes) = (image, wide, contentKey, boxes)
        }
    }

    public let budgetBytes: Int
    private let lock = NSLock()
    private var entries: [String: (entry: Entry, used: UInt64)] = [:]
    private var bytes = 0, clock: UInt64 = 0
    public private(set) var hits = 0, misses = 0

    /// `budgetBytes` 0 keeps nothing.
    public init(budgetBytes: Int) { self.budgetBytes = budgetBytes }

    /// The key of the file at `url` as it is now; nil when it cannot be read (the caller reports it).
    public static func key(_ url: URL) -> String? {
        guard let a = try? FileManager.default.attributesOfItem(atPath: url.path), let size = a[.size] as? Int,
            let modified = a[.modificationDate] as? Date
        else { return nil }
        return "\(url.path)|\(size)|\(modified.timeIntervalSince1970)"
    }

    public func entry(_ key: String) -> Entry? {
        lock.lock()
        defer { lock.unlock() }
        guard let found = entries[key] else { misses += 1; return nil }
        hits += 1
        clock += 1
        entries[key]!.used = clock
        return found.entry
    }

    public func store(_ entry: Entry, _ key: String) {
        let size = Self.size(entry)
        guard size <= budgetBytes else { return }
        lock.lock()
        defer { lock.unlock() }
        if let old = entries[key] { bytes -= Self.size(old.entry) }
        clock += 1
        entries[key] = (entry, clock)
        bytes += size
        while bytes > budgetBytes, let oldest = entries.min(by: { $0.value.used < $1.value.used }) {
            bytes -= Self.size(oldest.value.entry)
            entries[oldest.key] = nil
        }
    }

    private static func size(_ entry: Entry) -> Int {
        entry.image.pixels.count + 2 * (entry.wide?.pixels.count ?? 0) + 64 * (entry.boxes?.count ?? 0) + 256
    }
}
