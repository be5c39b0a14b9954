import Datasets
import Foundation
import ImageOps
import Images
@testable import Synthetic
import Testing

/// The synthetic benchmark: exact label counts, grading rules, determinism, real files.
@Suite struct SyntheticDatasetTests {
    @Test func assignmentsHitTheSharesExactly() throws {
        var config = SyntheticDataset.Config(count: 103)
        config.seed = 7
        let plan = try SyntheticDataset(config).assignments()
        let perGrade = (0..<5).map { grade in plan.filter { $0.grade == grade }.count }
        #expect(perGrade == apportion(103, [0.4, 0.15, 0.2, 0.125, 0.125]))
        #expect(perGrade.reduce(0, +) == 103)
        #expect(plan.filter { $0.quality > 0 }.count == 34)  // round(0.334 * 103)
        // Every grade gets low-quality images in proportion.
        for grade in 0..<5 {
            let low = plan.filter { $0.grade == grade && $0.quality > 0 }.count
            #expect(abs(Double(low) - 0.334 * Double(perGrade[grade])) <= 1.01)
        }
        #expect(try SyntheticDataset(config).assignments() == plan)
    }

    @Test func lesionsFollowTheGradingRules() throws {
        for index in 0..<6 {
            for grade in 0...4 {
                let fundus = SyntheticFundus.render(seed: 3, index: index, size: 256, grade: grade, degradation: nil)
                let kinds = Set(fundus.lesions.map(\.lesionClass))
                switch grade {
                case 0: #expect(fundus.lesions.isEmpty)
                case 1: #expect(kinds == ["microaneurysm"])
                case 2:
                    #expect(kinds.contains("microaneurysm") && (kinds.contains("haemorrhage") || kinds.contains("hard_exudate")))
                    #expect(!kinds.contains("neovascularisation"))
                case 3:
                    // Haemorrhages in all four quadrants around the field's centre.
                    let quadrants = Set(
                        fundus.lesions.filter { $0.lesionClass == "haemorrhage" }.map { box in
                            (box.x + box.width / 2 < 128 ? 0 : 1) + (box.y + box.height / 2 < 128 ? 0 : 2)
                        })
                    #expect(quadrants.count == 4)
                    #expect(fundus.lesions.filter { $0.lesionClass == "haemorrhage" }.count >= 16)
                default: #expect(kinds.contains("neovascularisation"))
                }
                for box in fundus.lesions {
                    #expect(box.x >= 0 && box.y >= 0 && box.x + box.width <= 256 && box.y + box.height <= 256)
                }
            }
        }
    }

    @Test func imagesLookLikeFundusPhotos() {
        let fundus = SyntheticFundus.render(seed: 1, index: 0, size: 256, grade: 3, degradation: nil)
        let image = fundus.image
        // Black corners (outside the circular field), a reddish field.
        #expect(image.pixels[0..<3].allSatisfy { $0 == 0 })
        #expect(image.pixels[(image.pixels.count - 3)...].allSatisfy { $0 == 0 })
        let field = FieldOfView(of: image)
        let share = Double(field.area) / Double(image.pixelCount)
        #expect(share > 0.55 && share < 0.75, "field covers \(share)")
        var (r, g, b) = (0.0, 0.0, 0.0)
        for i in 0..<image.pixelCount where field.mask[i] > 0 {
            (r, g, b) = (r + Double(image.pixels[3 * i]), g + Double(image.pixels[3 * i + 1]), b + Double(image.pixels[3 * i + 2]))
        }
        #expect(r > g && g > b)
        // Lesion pixels differ from their surroundings: a haemorrhage is darker than the retina.
        let haemorrhage = fundus.lesions.first { $0.lesionClass == "haemorrhage" }!
        let centre = Int(haemorrhage.y + haemorrhage.height / 2) * 256 + Int(haemorrhage.x + haemorrhage.width / 2)
        #expect(image.luma(at: centre) < Float(r + g + b) / Float(3 * field.area) * 1.2)
    }

    @Test func sameSeedSameBytesWhateverTheThreads() throws {
        let root = temporaryFolder("synth")
        defer { try? FileManager.default.removeItem(at: root) }
        var config = smallConfig(count: 6, size: 128, seed: 11)
        let one = root.appendingPathComponent("one"), two = root.appendingPathComponent("two")
        try SyntheticDataset(config).write(to: one, threads: 1)
        try SyntheticDataset(config).write(to: two, threads: 2)
        let files = try FileManager.default.contentsOfDirectory(atPath: one.appendingPathComponent("images").path).sorted()
        #expect(files == (0..<6).map { String(format: "%06d.png", $0) })
        for name in files.map({ "images/\($0)" }) + ["labels.csv", "lesions.csv", "synth.json"] {
            #expect(try Data(contentsOf: one.appendingPathComponent(name)) == Data(contentsOf: two.appendingPathComponent(name)), "\(name)")
        }
        // The files are what they claim: decodable images, a label file the EyeQ reader takes.
        let manifest = try Manifest.load(ManifestOptions(format: .eyeq, labels: one.appendingPathComponent("labels.csv").path))
        #expect(manifest.entries.count == 6)
        let decoded = try ImageDecoder.decode(contentsOf: manifest.url(of: manifest.entries[0]).path)
        #expect(decoded.width == 128 && decoded.height == 128)
        let boxes = try LesionBoxFile.read(one.appendingPathComponent("lesions.csv").path)
        for entry in manifest.entries { #expect((boxes[entry.image] ?? []).isEmpty == (entry.grade == 0)) }

        config.seed = 12
        let other = root.appendingPathComponent("other")
        try SyntheticDataset(config).write(to: other, threads: 2)
        #expect(
            try Data(contentsOf: one.appendingPathComponent("images/000000.png"))
                != Data(contentsOf: other.appendingPathComponent("images/000000.png")))
    }
}
