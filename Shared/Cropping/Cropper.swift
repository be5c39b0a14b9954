import Basics
import Datasets
import Detection
import Foundation
import ImageOps
import Images
import Logging
import Synchronization
import Wire

/// The detector/cropper's work: one PatchRequest in, one Patch out. Lesion levels get Omega around
/// a detected box, healthy levels RandC (docs/method.md section 2). Everything random comes from
/// (run seed, step, item), so a re-issued item gives the same patch on any replica.
public final class Cropper: Sendable {
    public let dataRoot: URL
    public let detector: any LesionDetector
    public let cache: DetectionCache?
    public let cutter: PatchCutter
    /// Images are shrunk so their shorter side is at most this before detection and cutting
    /// (prior work resizes fundus photos to 512; Huang et al. 2021); 0 keeps the native size.
    public let imageSide: Int

    /// Decoded images and their boxes kept between requests (ImageMemory).
    public let memory: ImageMemory
    /// Detections the cache could not keep (a read-only or full disk): the run goes on without
    /// caching them, and says so once.
    public let cacheWriteFailures = Atomic<Int>(0)
    private let logger = Logger(label: "comcl.cropper")

    /// `memoryBytes`: ImageMemory's budget (default 512 MB: about 1,100 images of 384 px or 650
    /// of 512 px, a synthetic demo set whole; 0 keeps nothing).
    public init(
        dataRoot: URL, detector: any LesionDetector, cache: DetectionCache?, cutter: PatchCutter = PatchCutter(), imageSide: Int = 512,
        memoryBytes: Int = 512 << 20
    ) {
        (self.dataRoot, self.detector, self.cache, self.cutter, self.imageSide) = (dataRoot, detector, cache, cutter, imageSide)
        memory = ImageMemory(budgetBytes: memoryBytes)
    }

    public func handle(_ request: PatchRequest) throws -> Patch {
        let url = dataRoot.appendingPathComponent(request.path)
        let key = ImageMemory.key(url)
        let remembered = key.flatMap(memory.entry)
        var prepared = try remembered ?? load(url, request.path)
        let image = prepared.image
        guard min(image.width, image.height) >= cutter.size else {
            throw WorkFailure(code: .badInput, "\(request.path): \(image.width)x\(image.height) is smaller than a \(cutter.size)-px patch")
        }
        var g = SeededGenerator(seed: request.seed, request.id.step, request.id.item)
        var cut: CutPatch?
        if request.level == .lesionHigh || request.level == .lesionLow {
            let boxes = try prepared.boxes ?? detections(image, contentKey: prepared.contentKey, imageID: request.path)
            prepared.boxes = boxes
            cut = cutter.omega(image, boxes: boxes, using: &g)
        }
        // Kept when new, or when it has just learned its boxes (a hit already counts as a use).
        if let key, remembered == nil || (remembered?.boxes == nil && prepared.boxes != nil) { memory.store(prepared, key) }
        // A lesion image with no box above the threshold (common on low-quality images) gives a
        // random crop; its provenance says so (fromDetection false) and the coordinator counts it.
        let patch = cut ?? cutter.random(image, using: &g)
        var provenance = Provenance(
            imageID: request.imageID,
            window: Box(
                x: Float(patch.window.x), y: Float(patch.window.y), w: Float(patch.window.side), h: Float(patch.window.side),
                score: Float(patch.score)),
            fromDetection: patch.boxIndex != nil)
        provenance.imagePath = request.path
        (provenance.imageWidth, provenance.imageHeight) = (image.width, image.height)
        provenance.boxIndex = patch.boxIndex ?? -1
        provenance.detector = patch.boxIndex == nil ? "" : detector.identity
        // A 16-bit source is cut at the same window from its 16-bit copy.
        let shape = [cutter.size, cutter.size, 3]
        let pixels =
            if let wide = prepared.wide {
                try Tensor(uint16: cutter.window(wide, x: patch.window.x, y: patch.window.y, side: patch.window.side).pixels, shape: shape)
            } else { try Tensor(uint8: patch.pixels.pixels, shape: shape) }
        return Patch(id: request.id, pixels: pixels, level: request.level, provenance: provenance)
    }

    /// The image read, decoded and shrunk as the cropper works on it, with its bytes' cache key.
    private func load(_ url: URL, _ path: String) throws -> ImageMemory.Entry {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw WorkFailure(code: .notFound, "\(path): missing or unreadable under the data root \(dataRoot.path)")
        }
        let bytes = [UInt8](data)
        let decoded: DecodedImage
        do { decoded = try ImageDecoder.decodeImage(bytes) } catch { throw WorkFailure(code: .badInput, "\(path): \(error)") }
        let shrunk = Resize.shorterSide(decoded, atMost: imageSide)
        return ImageMemory.Entry(image: shrunk.rgb, wide: shrunk.wide, contentKey: ContentHash.hex(bytes) + "-\(imageSide)")
    }

    /// Boxes for an image, from the cache when this detector has seen these bytes before.
    public func detections(_ image: RGBImage, contentKey key: String, imageID: String) throws -> [LesionBox] {
        if let cached = cache?.boxes(forContent: key) { return cached }
        let boxes = try detector.detect(image, imageID: imageID)
        do { try cache?.store(boxes, forContent: key, detector: detector.identity) } catch {
            if cacheWriteFailures.add(1, ordering: .relaxed).newValue == 1 {
                logger.warning(
                    "cannot write the detection cache (\(error)); going on without caching: each image's detections are computed again by every cropper that needs them"
                )
            }
        }
        return boxes
    }
}
