import Foundation
import Images
import Testing

/// JPEG decoding against Pillow's decode of the same files (Tests/Fixtures/make_jpeg_fixtures.py).
@Suite struct JPEGTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/jpeg")

    struct Manifest: Decodable {
        struct File: Decodable { let name: String; let width: Int; let height: Int }
        let format: String
        let version: Int
        let files: [File]
    }

    static let manifest: Manifest = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()

    static func bytes(_ file: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: directory.appendingPathComponent(file))) }

    @Test func manifestIsOurs() {
        #expect(Self.manifest.format == "comcl-jpeg-fixtures" && Self.manifest.version == 2)
        // 5 colour and grey encodings, a CMYK JPEG, and the 7 EXIF orientations that turn pixels.
        #expect(Self.manifest.files.count == 13)
    }

    /// Tolerance 0: TurboJPEG's defaults (accurate integer IDCT, fancy upsampling) are what
    /// Pillow uses with the same libjpeg-turbo, so the pixels must agree exactly; that includes
    /// the CMYK conversion and the EXIF orientation a Pillow user applies (exif_transpose).
    @Test(arguments: manifest.files.map(\.name))
    func matchesPillow(_ name: String) throws {
        let file = Self.manifest.files.first { $0.name == name }!
        let image = try ImageDecoder.decode(try Self.bytes("\(name).jpg"))
        let expected = try Self.bytes("\(name).rgb")
        #expect(image.width == file.width && image.height == file.height)
        let maxDifference = zip(image.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(image.pixels.count == expected.count)
        #expect(maxDifference == 0, "\(name): max abs difference \(maxDifference) against Pillow")
    }

    @Test(arguments: ["baseline_420", "progressive_444"])
    func truncatedFilesAreErrors(_ name: String) throws {
        let whole = try Self.bytes("\(name).jpg")
        for length in stride(from: 3, to: whole.count - 2, by: 7) {
            #expect(throws: ImageError.self, "\(name) cut at \(length) bytes decoded") {
                _ = try ImageDecoder.decode(Array(whole.prefix(length)))
            }
        }
    }

    @Test func garbageAfterTheMarkerIsAnError() {
        #expect { _ = try ImageDecoder.decode([0xFF, 0xD8, 0xFF] + [UInt8](repeating: 0x42, count: 200)) } throws: { error in
            if case .corruptJPEG = error as? ImageError { true } else { false }
        }
    }

    /// Formats we do not decode are named, with what to do, instead of "unrecognised"; a
    /// DICOM GDCM cannot read says so in one sentence.
    @Test func otherFormatsAreNamed() {
        let tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0] + [UInt8](repeating: 0, count: 64)
        do { _ = try ImageDecoder.decode(tiff) } catch {
            #expect(
                "\(error)".hasPrefix("a TIFF file: this version reads PNG, JPEG and DICOM images only; convert it to PNG first"), "\(error)"
            )
        }
        let dicom = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8) + [UInt8](repeating: 0, count: 64)
        #expect { _ = try ImageDecoder.decode(dicom) } throws: { error in
            if case .corruptDICOM = error as? ImageError { true } else { false }
        }
    }
}
