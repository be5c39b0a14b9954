import Basics
import Datasets
@testable import Degradation
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
            for y in 0..<128 {
                for x in 1..<128 where field.mask[y * 128 + x] > 0 && field.mask[y * 128 + x - 1] > 0 {
                    sum += abs(image.pixels[3 * (y * 128 + x) + 1] - image.pixels[3 * (y * 128 + x - 1) + 1])
                }
            }
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

    /// Chest X-rays are degraded as X-rays (the probe: the fundus model put a cream halo ring and
    /// colour on a grey radiograph): they stay grey, and each kind does what it says.
    @Test func xrayModelKeepsImagesGreyAndDegradesThem() {
        // A grey "radiograph": a bright body with two darker lungs and a sharp rib edge.
        var clean = FloatImage(width: 96, height: 80)
        for y in 0..<80 {
            for x in 0..<96 {
                let lung = (abs(x - 30) < 12 || abs(x - 66) < 12) && (15..<65).contains(y)
                let v: Float = (10..<86).contains(x) ? (lung ? 0.25 : 0.7) + (y % 16 < 2 ? 0.15 : 0) : 0.05
                (clean.pixels[3 * (y * 96 + x)], clean.pixels[3 * (y * 96 + x) + 1], clean.pixels[3 * (y * 96 + x) + 2]) = (v, v, v)
            }
        }
        func std(_ image: FloatImage) -> Float {
            let values = (0..<image.pixelCount).map { image.pixels[3 * $0] }
            let mean = values.reduce(0, +) / Float(values.count)
            return (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)).squareRoot()
        }
        func isGrey(_ image: FloatImage) -> Bool {
            (0..<image.pixelCount).allSatisfy { (i: Int) -> Bool in
                let (r, g, b) = (image.pixels[3 * i], image.pixels[3 * i + 1], image.pixels[3 * i + 2])
                return r == g && g == b
            }
        }
        // Gradient energy: blur spreads an edge (lower), noise adds steps everywhere (higher).
        func roughness(_ image: FloatImage) -> Float {
            (1..<image.pixelCount).map { (i: Int) -> Float in
                let d = image.pixels[3 * i] - image.pixels[3 * (i - 1)]
                return d * d
            }.reduce(0, +)
        }
        var g = SeededGenerator(seed: 3)
        for _ in 0..<20 {
            for severity in [FundusDegradation.Severity.mild, .strong] {
                let d = XRayDegradation.random(severity: severity, using: &g)
                #expect(severity == .mild ? d.kinds.count == 1 : (2...3).contains(d.kinds.count))
                var image = clean
                d.apply(to: &image)
                #expect(image != clean)
                #expect(isGrey(image))
            }
        }
        var noisy = clean, blurred = clean, flat = clean
        var noise = XRayDegradation(), blur = XRayDegradation(), contrast = XRayDegradation()
        (noise.noise, blur.blur, contrast.contrast) = (0.05, 3.0 / 80, 0.5)
        noise.apply(to: &noisy)
        blur.apply(to: &blurred)
        contrast.apply(to: &flat)
        // Away from the clipped dark border, the added noise has the asked standard deviation.
        let residuals = (0..<clean.pixelCount).filter { clean.pixels[3 * $0] > 0.2 }.map { noisy.pixels[3 * $0] - clean.pixels[3 * $0] }
        let noiseStd = (residuals.map { $0 * $0 }.reduce(0, +) / Float(residuals.count)).squareRoot()
        #expect(abs(noiseStd - 0.05) < 0.005, "noise std \(noiseStd)")
        #expect(roughness(blurred) < 0.8 * roughness(clean))
        #expect(abs(std(flat) - 0.5 * std(clean)) < 0.01)
    }

    @Test func theModelIsChosenFromTheData() throws {
        let root = temporaryFolder("modality")
        defer { try? FileManager.default.removeItem(at: root) }
        let images = root.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        // Four grey PNGs listed in a generic label file: X-rays, degraded as X-rays.
        var entries: [ManifestEntry] = []
        for i in 0..<4 {
            let grey = (0..<(64 * 64)).flatMap { p -> [UInt8] in
                let v = UInt8((p * 7 + i * 31) % 200 + 20); return [v, v, v]
            }
            try Data(try PNGEncoder.encode(try RGBImage(width: 64, height: 64, pixels: grey))).write(
                to: images.appendingPathComponent("x\(i).png"))
            entries.append(
                ManifestEntry(
                    image: "x\(i).png", labels: i < 2 ? ["Effusion"] : [], grade: nil, quality: .high, qualityGrade: nil, lesion: i < 2,
                    line: i + 2))
        }
        try ManifestWriter.generic(entries).write(to: root.appendingPathComponent("manifest.csv"), atomically: true, encoding: .utf8)
        let manifest = try Manifest.load(
            ManifestOptions(format: .generic, labels: root.appendingPathComponent("manifest.csv").path, images: images.path))
        #expect(Modality.of(manifest) == .xray)
        let (written, report) = try DatasetDegrader(target: 1, seed: 2).degrade(
            manifest, to: root.appendingPathComponent("all"), threads: 2)
        #expect(report.modality == .xray && report.degraded.count == 4 && report.degraded.values.allSatisfy { $0.xray != nil })
        for entry in written.entries {
            #expect(Modality.isGrey(try ImageDecoder.decode(contentsOf: written.url(of: entry).path)), "\(entry.image) got colour")
        }
        // EyeQ labels are fundus photos whatever the pixels.
        var eyeq = manifest
        eyeq.format = .eyeq
        #expect(Modality.of(eyeq) == .fundus)
    }
}
