import Foundation
import Images
import Testing

@Suite struct PNGTests {
    /// PngSuite and Go's broken PNGs, fetched from Debian's golang-1.19-src on first use.
    static let testdata: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = Process()
        script.executableURL = root.appendingPathComponent("scripts/fetch-pngsuite.sh")
        let pipe = Pipe()
        script.standardOutput = pipe
        try? script.run()
        script.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(testdata)/\(name)")))
    }

    static let suite: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(testdata)/pngsuite")) ?? []
        return names.filter { $0.hasSuffix(".sng") }.map { String($0.dropLast(4)) }.sorted()
    }()

    @Test func pngSuiteIsThere() {
        #expect(Self.suite.count == 35, "expected 35 PngSuite images with .sng dumps in \(Self.testdata) (scripts/fetch-pngsuite.sh)")
    }

    @Test(arguments: suite)
    func pngSuiteDecodesPixelExact(_ name: String) throws {
        let sng = try SNGFile(path: "\(Self.testdata)/pngsuite/\(name).sng")
        let image = try ImageDecoder.decode(try Self.bytes("pngsuite/\(name).png"))
        #expect(image.width == sng.width && image.height == sng.height)
        let expected = sng.expectedRGB()
        if let first = zip(image.pixels, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            let pixel = first / 3
            Issue.record(
                "\(name): first difference at pixel (\(pixel % sng.width), \(pixel / sng.width)), channel \(first % 3): got \(image.pixels[first]), want \(expected[first])"
            )
        }
        #expect(image.pixels.count == expected.count)
    }

    /// A 16-bit PNG keeps its 16 bits for the training path (the 8-bit rendering is checked above).
    @Test(arguments: suite.filter { $0.hasSuffix("16") })
    func sixteenBitSamplesAreKept(_ name: String) throws {
        let sng = try SNGFile(path: "\(Self.testdata)/pngsuite/\(name).sng")
        let image = try ImageDecoder.decodeImage(try Self.bytes("pngsuite/\(name).png"))
        #expect(image.wide?.pixels == sng.expectedRGB16(), "\(name)")
        #expect(image.rgb == (try ImageDecoder.decode(try Self.bytes("pngsuite/\(name).png"))))
    }

    @Test(arguments: [("gray-gradient.interlaced.png", "gray-gradient.png"), ("benchRGB-interlace.png", "benchRGB.png")])
    func interlacedMatchesNonInterlaced(_ interlaced: String, _ plain: String) throws {
        #expect(try ImageDecoder.decode(try Self.bytes(interlaced)) == ImageDecoder.decode(try Self.bytes(plain)))
    }

    @Test(arguments: ["invalid-crc32.png", "invalid-noend.png", "invalid-trunc.png", "invalid-zlib.png", "invalid-palette.png"])
    func brokenFilesAreErrors(_ name: String) throws {
        #expect { _ = try ImageDecoder.decode(try Self.bytes(name)) } throws: { error in
            guard case .corruptPNG(let reason) = error as? ImageError else { return false }
            return !reason.isEmpty
        }
    }

    /// Every strict prefix of a valid file is an error (never a crash, never a partial image).
    @Test(arguments: ["pngsuite/basn6a16.png", "pngsuite/basn3p04-31i.png"])
    func everyTruncationIsAnError(_ name: String) throws {
        let whole = try Self.bytes(name)
        for length in 0..<whole.count {
            #expect(throws: ImageError.self, "\(name) cut at \(length) bytes decoded") {
                _ = try ImageDecoder.decode(Array(whole.prefix(length)))
            }
        }
    }

    /// Seeded random byte damage: each attempt throws or decodes, and the process survives.
    @Test func randomDamageNeverCrashes() throws {
        let whole = try Self.bytes("pngsuite/basn2c16.png")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var thrown = 0
        for _ in 0..<500 {
            var damaged = whole
            for _ in 0..<3 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                damaged[Int(state >> 33) % damaged.count] ^= UInt8(truncatingIfNeeded: state >> 17) | 1
            }
            do { _ = try ImageDecoder.decode(damaged) } catch { thrown += 1 }
        }
        #expect(thrown > 400, "CRC checks should catch nearly all damage (\(thrown)/500)")
    }

    @Test(arguments: [1, 3, 4])
    func encodeThenDecode(_ channels: Int) throws {
        let (width, height) = (37, 23)
        let pixels = (0..<(width * height * channels)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let png = try PNGEncoder.encode(pixels: pixels, width: width, height: height, channels: channels)
        let image = try ImageDecoder.decode(png)
        let rgb = (0..<(width * height)).flatMap { p -> [UInt8] in
            let px = Array(pixels[(p * channels)..<(p * channels + channels)])
            return channels == 1 ? [px[0], px[0], px[0]] : Array(px.prefix(3))
        }
        #expect(image.width == width && image.height == height && image.pixels == rgb)
    }

    @Test func sizeLimitIsCheckedBeforeDecoding() throws {
        #expect(throws: ImageError.tooLarge(width: 32, height: 32, limit: 1000)) {
            _ = try ImageDecoder.decode(try Self.bytes("pngsuite/basn2c08.png"), maxPixels: 1000)
        }
    }

    @Test func notAnImageOrNoFile() throws {
        #expect(throws: ImageError.unknownFormat) { _ = try ImageDecoder.decode(Array("hello".utf8)) }
        #expect(throws: ImageError.unknownFormat) { _ = try ImageDecoder.decode([]) }
        #expect(throws: ImageError.unreadable(path: "/nonexistent/x.png", reason: "no such file")) {
            _ = try ImageDecoder.decode(contentsOf: "/nonexistent/x.png")
        }
        #expect(throws: ImageError.self) { _ = try PNGEncoder.encode(pixels: [1, 2], width: 1, height: 1) }
    }
}
