import Augmentation
import Basics
import Encoder
import Foundation
import ImageOps
import Testing

/// Our colour, crop-and-resize and rotation ops against torchvision 0.14's functional ops on the
/// same fixed parameters (Tests/Fixtures/augmentation/make_augmentation_fixtures.py).
// SafeTensors is immutable once read, so sharing the one copy between tests is safe.
@Suite struct TorchvisionParityTests {
    nonisolated(unsafe) static let fixture: (file: SafeTensors, cases: [String: JSONValue]) = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/augmentation/torchvision_ops.safetensors")
        let file = try! SafeTensors(contentsOf: url)
        precondition(
            file.metadata["format"] == "comcl-augmentation-fixture" && file.metadata["version"] == "1",
            "unexpected fixture \(file.metadata)")
        guard case .object(let cases) = try! JSONDecoder().decode(JSONValue.self, from: Data(file.metadata["cases"]!.utf8)) else {
            fatalError("fixture cases are not an object")
        }
        return (file, cases)
    }()

    static func image(_ name: String) throws -> FloatImage {
        let entry = try fixture.file.entry(name)
        var image = FloatImage(width: entry.shape[1], height: entry.shape[0])
        image.pixels = try fixture.file.floats(name)
        return image
    }

    static func parameters(_ name: String) throws -> [String: JSONValue] {
        guard case .object(let values)? = fixture.cases[name] else { throw Problem("no case \(name)") }
        return values
    }

    static func number(_ values: [String: JSONValue], _ key: String) -> Double {
        guard case .number(let n)? = values[key] else { fatalError("\(key) missing") }
        return n
    }

    /// Largest absolute difference, and the share of values further apart than `tolerance`.
    static func compare(_ mine: FloatImage, _ name: String, tolerance: Float) throws -> (maxDifference: Float, shareOff: Double) {
        let reference = try image(name)
        #expect(mine.width == reference.width && mine.height == reference.height, "\(name): \(mine.width)x\(mine.height)")
        var worst: Float = 0, off = 0
        for (a, b) in zip(mine.pixels, reference.pixels) {
            worst = max(worst, abs(a - b))
            if abs(a - b) > tolerance { off += 1 }
        }
        return (worst, Double(off) / Double(reference.pixels.count))
    }

    /// Float32 rounding is all that may differ: 2e-6 on values in [0, 1].
    @Test(arguments: [
        "brightness", "brightness_dark", "contrast", "contrast_up", "saturation", "saturation_down", "hue_plus", "hue_minus", "grayscale",
        "jitter_sequence",
    ])
    func colour(_ name: String) throws {
        let values = try Self.parameters(name)
        var image = try Self.image("input")
        func adjust(_ op: String, _ factor: Double) {
            switch op {
            case "brightness": ColorAdjust.brightness(&image, factor: factor)
            case "contrast": ColorAdjust.contrast(&image, factor: factor)
            case "saturation": ColorAdjust.saturation(&image, factor: factor)
            case "hue": ColorAdjust.hue(&image, shift: factor)
            default: Issue.record("unknown op \(op)")
            }
        }
        switch values["op"] {
        case .string("grayscale"): ColorAdjust.grayscale(&image)
        case .string("jitter"):
            guard case .array(let order)? = values["order"], case .object(let factors)? = values["factors"] else {
                throw Problem("bad case")
            }
            for case .string(let op) in order { adjust(op, Self.number(factors, op)) }
        case .string(let op): adjust(op, Self.number(values, "factor"))
        default: throw Problem("bad case \(name)")
        }
        let result = try Self.compare(image, name, tolerance: 2e-6)
        #expect(result.shareOff == 0, "\(name): max difference \(result.maxDifference)")
    }

    /// The antialiased bilinear filter against torchvision's resize(antialias=True), up and down.
    @Test(arguments: ["crop_up", "crop_down"])
    func resizedCrop(_ name: String) throws {
        let values = try Self.parameters(name)
        let n = { Int(Self.number(values, $0)) }
        let window = try Self.image("input").cropped(x: n("left"), y: n("top"), width: n("width"), height: n("height"))
        let result = try Self.compare(Resize.bilinear(window, width: n("size"), height: n("size")), name, tolerance: 2e-6)
        #expect(result.shareOff == 0, "\(name): max difference \(result.maxDifference)")
    }

    /// Nearest picks the same pixels (values equal); bilinear agrees within 1e-5, the float32
    /// rounding of sample coordinates near 20 px times pixel differences (measured: 3.1e-6).
    @Test(arguments: ["affine_nearest", "affine_bilinear", "affine_quarter", "affine_half_bilinear"])
    func affine(_ name: String) throws {
        let values = try Self.parameters(name)
        guard case .array(let shift)? = values["translate"], case .number(let tx) = shift[0], case .number(let ty) = shift[1],
            case .string(let mode)? = values["interpolation"], let interpolation = AffineWarp.Interpolation(rawValue: mode)
        else { throw Problem("bad case \(name)") }
        let out = AffineWarp.apply(
            try Self.image("input"), degrees: Self.number(values, "angle"), translateX: tx, translateY: ty, interpolation: interpolation)
        let result = try Self.compare(out, name, tolerance: interpolation == .nearest ? 0 : 1e-5)
        #expect(result.shareOff == 0, "\(name): max difference \(result.maxDifference), \(result.shareOff * 100) % of values off")
    }
}
