import Basics
import Foundation

/// DICOM through GDCM (any transfer syntax it decodes: raw, JPEG, JPEG-LS, JPEG 2000, RLE), run
/// as a process of its own (comcl-dicom-decoder, beside this program): Debian builds GDCM with
/// its assertions on, so a damaged file can abort it, and that must cost one image, never the
/// service. Greyscale images are rescaled (slope, intercept), windowed (DisplayWindow), inverted
/// when MONOCHROME1 (its 0 is white) and kept at 16 bits; colour images are RGB at their own depth.
enum DicomDecoder {
    /// The helper: $COMCL_DICOM_DECODER, else beside the running executable, else on PATH.
    static let helper: String? = {
        let fileManager = FileManager.default
        if let given = ProcessInfo.processInfo.environment["COMCL_DICOM_DECODER"], !given.isEmpty { return given }
        let name = "comcl-dicom-decoder"
        let beside = ThisProgram.sibling(name).path
        if fileManager.isExecutableFile(atPath: beside) { return beside }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/\(name)" }.first(where: fileManager.isExecutableFile)
    }()

    /// A file GDCM takes longer than this over is refused: a 4,000 x 4,000 JPEG 2000 decodes in a
    /// few seconds here, so 120 s only stops a decoder that has gone wrong.
    static let timeoutSeconds = 120.0

    /// A helper that dies while we still write to it must not end this process by SIGPIPE: the
    /// write fails instead, and the helper's status says what happened.
    private static let brokenPipesIgnored: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()

    static func decode(_ bytes: [UInt8], maxPixels: Int) throws -> DecodedImage {
        _ = brokenPipesIgnored
        guard let helper else {
            throw ImageError.corruptDICOM("comcl-dicom-decoder is not beside this program nor on PATH (set COMCL_DICOM_DECODER to it)")
        }
        let (status, output, errors) = try run(helper, [String(maxPixels)], input: Data(bytes))
        let said = String(decoding: errors, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        switch status {
        case 0: return try render(parse(output))
        case 2:
            let size = said.split(separator: " ").compactMap { Int($0) }
            throw ImageError.tooLarge(width: size.first ?? 0, height: size.last ?? 0, limit: maxPixels)
        case 1 where !said.isEmpty: throw ImageError.corruptDICOM(said)
        default:
            throw ImageError.corruptDICOM("GDCM stopped on the file (its decoder ended with status \(status)): a damaged or unusual file")
        }
    }

    /// The helper's exit status, stdout and stderr. Input is written while the output is read, so
    /// neither pipe can fill up and stall the other.
    private static func run(_ executable: String, _ arguments: [String], input: Data) throws -> (Int32, Data, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // A crash is expected of a damaged file; Swift's backtracer would only add seconds and noise.
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
        (process.standardInput, process.standardOutput, process.standardError) = (stdin, stdout, stderr)
        do { try process.run() } catch { throw ImageError.corruptDICOM("cannot start \(executable): \(error.localizedDescription)") }
        let timer = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: timer)
        DispatchQueue.global().async {
            // A helper that has already failed closes its end: the write error is expected then.
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        let errorsRead = DispatchGroup()
        nonisolated(unsafe) var errors = Data()
        DispatchQueue.global().async(group: errorsRead) { errors = stderr.fileHandleForReading.readDataToEndOfFile() }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        process.waitUntilExit()
        timer.cancel()
        return (process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus, output, errors)
    }

    /// What the helper found: the header's fields and the values after "data\n".
    struct Decoded {
        var fields: [String: [String]] = [:]
        var values: [Float] = []
        func int(_ key: String) -> Int { fields[key]?.first.flatMap { Int($0) } ?? 0 }
    }

    static func parse(_ output: Data) throws -> Decoded {
        let bytes = [UInt8](output)
        guard let mark = bytes.firstRange(of: Array("data\n".utf8)) else {
            throw ImageError.corruptDICOM("the decoder's answer has no data")
        }
        var decoded = Decoded()
        for line in String(decoding: bytes[..<mark.lowerBound], as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if let key = words.first { decoded.fields[key] = Array(words.dropFirst()) }
        }
        let body = bytes[mark.upperBound...]
        let count = decoded.int("width") * decoded.int("height") * decoded.int("samples")
        guard count > 0, body.count == count * 4 else { throw ImageError.corruptDICOM("the decoder's answer is cut short") }
        decoded.values = body.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return decoded
    }

    static func render(_ decoded: Decoded) throws -> DecodedImage {
        let (width, height) = (decoded.int("width"), decoded.int("height"))
        if decoded.int("samples") == 3 { return try colour(decoded.values, width: width, height: height, bits: decoded.int("bits_stored")) }
        var window: DisplayWindow?
        if let given = decoded.fields["window"], given.count == 3, let centre = Double(given[0]), let span = Double(given[1]) {
            window = DisplayWindow.fromFile(centre: centre, width: span, function: given[2] == "-" ? "" : given[2])
        }
        let shown = window ?? DisplayWindow.percentile(of: decoded.values)
        let invert = decoded.int("monochrome1") == 1
        var wide = [UInt16](repeating: 0, count: width * height * 3)
        wide.withUnsafeMutableBufferPointer { out in
            decoded.values.withUnsafeBufferPointer { values in
                for i in 0..<values.count {
                    let value = shown.apply(values[i])
                    let level = UInt16(((invert ? 1 - value : value) * 65535).rounded())
                    (out[3 * i], out[3 * i + 1], out[3 * i + 2]) = (level, level, level)
                }
            }
        }
        let full = try RGB16Image(width: width, height: height, pixels: wide)
        return DecodedImage(rgb: full.rounded8(), wide: full, window: shown)
    }

    /// RGB samples of `bits` bits: 8-bit images as they are, deeper ones scaled to 16 bits.
    private static func colour(_ samples: [Float], width: Int, height: Int, bits: Int) throws -> DecodedImage {
        if bits <= 8 {
            return DecodedImage(rgb: try RGBImage(width: width, height: height, pixels: samples.map { UInt8(clamping: Int($0)) }))
        }
        let scale = 65535 / (pow(2, Double(min(bits, 32))) - 1)
        let full = try RGB16Image(
            width: width, height: height, pixels: samples.map { UInt16(max(0, min(65535, (Double($0) * scale).rounded()))) })
        return DecodedImage(rgb: full.rounded8(), wide: full)
    }
}
