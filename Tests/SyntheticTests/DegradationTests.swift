import Basics
import Datasets
import Foundation
import ImageOps
import Images
@testable import Synthetic
import Testing

@Suite struct DegradationTests {
    @Test func blurMatchesTheSeparableKernel() {
        // An impulse far from the borders spreads into the outer product of the 1-D kernel.
        let sigma = 1.5, n = 31
        var values = [Float](repeating: 0, count: n * n)
        values[15 * n + 15] = 1
        GaussianBlur.apply(&values, width: n, height: n, channels: 1, sigma: sigma)
        let k = GaussianBlur.kernel(sigma: sigma), r = k.count / 2
        #expect(r == 5)
        #expect(abs(k.reduce(0, +) - 1) < 1e-6)
        for dy in -r...r {
            for dx in -r...r {
                #expect(abs(values[(15 + dy) * n + 15 + dx] - k[dy + r] * k[dx + r]) < 1e-7)
            }
        }
        #expect(abs(values.reduce(0, +) - 1) < 1e-5)
        // Reflected borders keep a constant image constant.
        var flat = [Float](repeating: 0.25, count: 10 * 7 * 3)
        GaussianBlur.apply(&flat, width: 10, height: 7, channels: 3, sigma: 4)
        #expect(flat.allSatisfy { abs($0 - 0.25) < 1e-6 })
    }

    @Test func severityChoosesHowManyKinds() {
        var g = SeededGenerator(seed: 5)
        for _ in 0..<50 {
            #expect(FundusDegradation.random(severity: .mild, using: &g).kinds.count == 1)
            #expect((2...3).contains(FundusDegradation.random(severity: .strong, using: &g).kinds.count))
        }
    }

    @Test func actsInsideTheFieldOnly() {
        let clean = SyntheticFundus.render(seed: 2, index: 1, size: 128, grade: 2, degradation: nil).image
        let field = FieldOfView(of: clean)
        for kind in FundusDegradation.Kind.allCases {
            var g = SeededGenerator(seed: 9)
            let d = FundusDegradation.random(kinds: [kind], severity: .strong, using: &g)
            var image = clean
            d.apply(to: &image, field: field)
            var changedInside = 0
            for i in 0..<image.pixelCount {
                let same = (0..<3).allSatisfy { image.pixels[3 * i + $0] == clean.pixels[3 * i + $0] }
                if field.mask[i] == 0 { #expect(same) } else if !same { changedInside += 1 }
            }
            #expect(changedInside > field.area / 20, "\(kind) changed \(changedInside) of \(field.area) pixels")
        }
        // Blur removes detail: the mean absolute horizontal gradient inside the field falls.
        func detail(_ image: FloatImage) -> Float {
            var sum: Float = 0
            for y in 0..<128 { for x in 1..<128 where field.mask[y * 128 + x] > 0 && field.mask[y * 128 + x - 1] > 0 {
                sum += abs(image.pixels[3 * (y * 128 + x) + 1] - image.pixels[3 * (y * 128 + x - 1) + 1])
            } }
            return sum
        }
        var blurred = clean
        FundusDegradation(blur: 10.0 / 512).apply(to: &blurred, field: field)
        #expect(detail(blurred) < 0.6 * detail(clean))
    }

    @Test func degradeRaisesTheLowShare() throws {
        let root = temporaryFolder("degrade")
        defer { try? FileManager.default.removeItem(at: root) }
        let source = root.appendingPathComponent("set")
        try SyntheticDataset(smallConfig(count: 10, size: 96, seed: 4)).write(to: source, threads: 2)
        let labels = source.appendingPathComponent("labels.csv").path
        let before = try Data(contentsOf: URL(fileURLWithPath: labels))
        let manifest = try Manifest.load(ManifestOptions(format: .eyeq, labels: labels))
        #expect(manifest.entries.filter { $0.quality == .low }.count == 3)

        let out = root.appendingPathComponent("seventy")
        let report = try DatasetDegrader(target: 0.7, seed: 1).run(manifest, to: out, threads: 2)
        #expect(report.lowAfter == 7 && report.degraded.count == 4)
        let after = try Manifest.load(ManifestOptions(format: .eyeq, labels: out.appendingPathComponent("labels.csv").path))
        #expect(after.entries.filter { $0.quality == .low }.count == 7)
        for (old, new) in zip(manifest.entries, after.entries) {
            #expect(old.grade == new.grade && old.image == new.image)
            let same = try Data(contentsOf: manifest.url(of: old)) == Data(contentsOf: after.url(of: new))
            // Degraded images changed and were relabelled; the rest are the same files.
            #expect(same == (report.degraded[old.image] == nil))
            if report.degraded[old.image] != nil { #expect(old.quality == .high && new.quality == .low && new.qualityGrade != 0) }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: labels)) == before)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("lesions.csv").path))

        // Seeded: the same seed picks the same images and the same degradations.
        let again = try DatasetDegrader(target: 0.7, seed: 1).run(manifest, to: root.appendingPathComponent("again"), threads: 1)
        #expect(again.degraded == report.degraded)
        let all = try DatasetDegrader(target: 1, seed: 1).run(manifest, to: root.appendingPathComponent("all"), threads: 2)
        #expect(all.lowAfter == 10)
    }
}
