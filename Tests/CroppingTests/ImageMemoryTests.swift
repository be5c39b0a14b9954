import Basics
import Cropping
import Datasets
import Detection
import Foundation
import ImageOps
import Images
import Synthetic
import Testing
import Wire

/// The cropper's image memory changes how fast patches come, never what they are.
@Suite struct ImageMemoryTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-memory-\(UUID().uuidString)")

    func dataset() throws -> Manifest {
        var config = SyntheticDataset.Config(count: 6)
        (config.size, config.seed, config.gradeShares) = (192, 3, [0.5, 0, 0, 0.5, 0])
        try SyntheticDataset(config).write(to: root.appendingPathComponent("data"), threads: 2)
        return try Manifest.load(ManifestOptions(format: .eyeq, labels: root.appendingPathComponent("data/labels.csv").path))
    }

    func cropper(memoryBytes: Int) -> Cropper {
        Cropper(dataRoot: root.appendingPathComponent("data/images"), detector: ClassicalDetector(), cache: nil, memoryBytes: memoryBytes)
    }

    func request(_ entry: ManifestEntry, item: UInt64) -> PatchRequest {
        PatchRequest(id: WorkID(run: "m", step: 1, item: item), imageID: entry.image, path: entry.image, level: entry.level, seed: 9)
    }

    @Test func patchesFromMemoryEqualPatchesFromDisk() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let manifest = try dataset()
        let remembering = cropper(memoryBytes: 64 << 20), forgetting = cropper(memoryBytes: 0)
        for round in 0..<2 {  // the second round is served from memory
            for (i, entry) in manifest.entries.enumerated() {
                let r = request(entry, item: UInt64(i + 100 * round))
                #expect(try remembering.handle(r) == forgetting.handle(r), "\(entry.image), round \(round)")
            }
        }
        #expect(remembering.memory.hits == manifest.entries.count && forgetting.memory.hits == 0)
    }

    @Test func anEditedImageIsReadAgain() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let manifest = try dataset()
        let remembering = cropper(memoryBytes: 64 << 20)
        let (a, b) = (manifest.entries[0], manifest.entries[1])
        let r = request(a, item: 1)
        let before = try remembering.handle(r)
        // Another image's bytes under a's name: the memory must not serve the old pixels.
        let folder = root.appendingPathComponent("data/images")
        try FileManager.default.removeItem(at: folder.appendingPathComponent(a.image))
        try FileManager.default.copyItem(at: folder.appendingPathComponent(b.image), to: folder.appendingPathComponent(a.image))
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: folder.appendingPathComponent(a.image).path)
        let after = try remembering.handle(r)
        #expect(after == (try cropper(memoryBytes: 0).handle(r)))
        #expect(after.pixels != before.pixels)
    }

    @Test func theBudgetDropsTheLeastRecentlyUsed() throws {
        let image = try RGBImage(width: 10, height: 10, pixels: [UInt8](repeating: 7, count: 300))
        let memory = ImageMemory(budgetBytes: 2 * (300 + 256))
        for key in ["a", "b"] { memory.store(ImageMemory.Entry(image: image, contentKey: key), key) }
        _ = memory.entry("a")  // b is now the least recently used
        memory.store(ImageMemory.Entry(image: image, contentKey: "c"), "c")
        #expect(memory.entry("a") != nil && memory.entry("b") == nil && memory.entry("c") != nil)
        #expect(ImageMemory(budgetBytes: 0).entry("a") == nil)
    }

    @Test func fieldOfViewFromBytesEqualsTheFloatPath() throws {
        var g = SeededGenerator(seed: 4)
        let pixels = (0..<(31 * 17 * 3)).map { _ in UInt8(g.integer(0, 40)) }  // around the threshold (20)
        let image = try RGBImage(width: 31, height: 17, pixels: pixels)
        #expect(FieldOfView(of: image).mask == FieldOfView(of: FloatImage(image)).mask)
    }
}
