import Datasets
import Foundation
import Testing
import Wire

/// The three label-file formats, read from real files: levels, summaries, and errors that name
/// file and line.
@Suite struct ManifestTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("images"), withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func touch(_ names: [String]) throws {
        for name in names { try Data([0x89]).write(to: directory.appendingPathComponent("images/\(name)")) }
    }

    @Test func eyeqLevelsAndSummary() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try touch(["a.jpeg", "b.jpeg", "c.jpeg", "d.jpeg", "e.jpeg"])
        // pandas writes an unnamed index column and sometimes floats.
        let labels = try write(
            "eyeq.csv", ",image,quality,DR_grade\r\n0,a.jpeg,0,0\r\n1,b.jpeg,1,2\r\n2,c.jpeg,2,0\r\n3,d.jpeg,0,4.0\r\n4,e.jpeg,2,1\r\n")
        let manifest = try Manifest.load(ManifestOptions(format: .eyeq, labels: labels))
        #expect(manifest.imageRoot == directory.appendingPathComponent("images").path)
        #expect(manifest.entries.map(\.level) == [.healthyHigh, .lesionLow, .healthyLow, .lesionHigh, .lesionLow])
        #expect(manifest.entries.map(\.grade) == [0, 2, 0, 4, 1])
        #expect(manifest.entries.map(\.line) == [2, 3, 4, 5, 6])
        let summary = ManifestSummary(manifest)
        #expect(summary.levels == ["L": 1, "L~": 2, "H": 1, "H~": 1])
        #expect(summary.labels == ["0": 2, "1": 1, "2": 1, "4": 1])
        #expect(abs(summary.lowQualityShare - 0.6) < 1e-12)
        #expect(summary.text.contains("low-quality share: 60.0 %"))
    }

    /// The services read only under the images folder and refuse `..` on the wire (the probe: a
    /// label file of `../images/x` paths passed `manifest` and then hung `train`): such paths are
    /// rewritten to the plain relative path of the same file, or refused in one sentence.
    @Test func climbingAndAbsolutePathsBecomeRelativeOrAreRefused() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try touch(["a.jpeg", "b.jpeg", "c.jpeg"])
        let images = directory.appendingPathComponent("images").path
        let labels = try write("eyeq.csv", ",image,quality,DR_grade\n0,../images/a.jpeg,0,0\n1,\(images)/b.jpeg,1,2\n2,./c.jpeg,0,1\n")
        let manifest = try Manifest.load(ManifestOptions(format: .eyeq, labels: labels))
        #expect(manifest.entries.map(\.image) == ["a.jpeg", "b.jpeg", "c.jpeg"])

        let outside = try write("outside.csv", ",image,quality,DR_grade\n0,a.jpeg,0,0\n1,../eyeq.csv,0,0\n")
        #expect {
            try Manifest.load(ManifestOptions(format: .eyeq, labels: outside))
        } throws: { error in
            "\(error)".hasSuffix(
                "outside.csv:3: image ../eyeq.csv lies outside the images folder \(images), and the services read only under it: give --images a folder that holds every image"
            )
        }
        // The same file twice under two spellings is caught as a duplicate.
        let twice = try write("twice.csv", ",image,quality,DR_grade\n0,a.jpeg,0,0\n1,../images/a.jpeg,0,0\n")
        #expect { try Manifest.load(ManifestOptions(format: .eyeq, labels: twice)) } throws: {
            "\($0)".contains("a.jpeg is listed twice (first on line 2)")
        }
    }

    @Test func eyeqErrorsNameFileAndLine() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try touch(["a.png", "b.png", "c.png"])
        let labels = try write(
            "labels.csv", ",image,quality,DR_grade\n0,a.png,0,7\n1,missing.png,0,1\n2,b.png,0,1\n3,b.png,1,1\n4,c.png,good,1\n")
        #expect(throws: DatasetError(file: labels, line: 2, "DR_grade \"7\" is not one of DR grades 0-4")) {
            try Manifest.load(ManifestOptions(format: .eyeq, labels: labels))
        }
        var options = ManifestOptions(format: .eyeq, labels: labels)
        options.skipBad = true
        let manifest = try Manifest.load(options)
        #expect(manifest.entries.map(\.image) == ["b.png"])
        #expect(manifest.skipped.map(\.line) == [2, 3, 5, 6])
        #expect(manifest.skipped[1].message.contains("missing.png not found under"))
        #expect(manifest.skipped[2].message == "b.png is listed twice (first on line 4)")
        #expect(manifest.skipped[3].message.contains("quality \"good\""))
        // A file that is not the format asked for names the columns it has.
        let other = try write("other.csv", "path,labels,quality\na.png,0,0\n")
        #expect(throws: DatasetError(file: other, line: 1, "no column \"image\" (the header has: \"path\", \"labels\", \"quality\")")) {
            try Manifest.load(ManifestOptions(format: .eyeq, labels: other))
        }
        #expect(throws: DatasetError(file: directory.appendingPathComponent("nope.csv").path, line: nil, "no such file")) {
            try Manifest.load(ManifestOptions(format: .eyeq, labels: directory.appendingPathComponent("nope.csv").path))
        }
    }

    @Test func chestXray() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try touch(["1.png", "2.png", "3.png"])
        let entries = try write(
            "Data_Entry_2017.csv",
            """
            Image Index,Finding Labels,Follow-up #,Patient ID
            1.png,No Finding,0,1
            2.png,Effusion|Mass,0,2
            3.png,"Pneumothorax",1,2

            """)
        let quality = try write("quality.csv", "Image Index,quality\n1.png,low\n2.png,0\n3.png,1\n")
        let manifest = try Manifest.load(
            ManifestOptions(format: .chestxray, labels: entries, images: directory.appendingPathComponent("images").path, quality: quality))
        #expect(manifest.entries.map(\.level) == [.healthyLow, .lesionHigh, .lesionLow])
        #expect(manifest.entries[1].labels == ["Effusion", "Mass"])
        #expect(ManifestSummary(manifest).labels == ["healthy": 1, "Effusion": 1, "Mass": 1, "Pneumothorax": 1])

        let bad = try write("bad.csv", "Image Index,Finding Labels\n1.png,Hernia\n2.png,Effusion|Flu\n3.png,No Finding|Mass\n4.png,Mass\n")
        let partial = try write("partial.csv", "Image Index,quality\n1.png,0\n2.png,0\n3.png,0\n")
        var options = ManifestOptions(format: .chestxray, labels: bad, quality: partial)
        options.skipBad = true
        options.checkFiles = false
        let loaded = try Manifest.load(options)
        #expect(loaded.entries.map(\.labels) == [["Hernia"]])
        let skipped = loaded.skipped.map(\.description)
        #expect(skipped.count == 3)
        #expect(skipped[0].hasPrefix("\(bad):3: unknown finding \"Flu\""))
        #expect(skipped[1] == "\(bad):4: \"No Finding\" together with findings: No Finding|Mass")
        #expect(skipped[2] == "\(bad):5: 4.png has no row in the quality file \(partial)")
        #expect(throws: DatasetError.self) { try Manifest.load(ManifestOptions(format: .chestxray, labels: bad)) }
    }

    @Test func generic() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try touch(["x.png", "y.png", "z.png"])
        let labels = try write(
            "m.csv", "path,labels,quality\nimages/x.png,healthy,high\nimages/y.png,drusen|cnv,reject\nimages/z.png,0,usable\n")
        let manifest = try Manifest.load(ManifestOptions(format: .generic, labels: labels, images: directory.path))
        #expect(manifest.entries.map(\.level) == [.healthyHigh, .lesionLow, .healthyLow])
        #expect(manifest.entries.map(\.qualityGrade) == [nil, 2, 1])
        let written = ManifestWriter.generic(manifest.entries)
        #expect(written == "path,labels,quality\nimages/x.png,healthy,high\nimages/y.png,drusen|cnv,2\nimages/z.png,0,1\n")
    }
}
