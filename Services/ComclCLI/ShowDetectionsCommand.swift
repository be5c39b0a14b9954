import ArgumentParser
import Datasets
import Detection
import Foundation
import ImageOps
import Images

/// `comcl show-detections`: a picture of what the detector found, beside the truth when known.
struct ShowDetectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show-detections",
        abstract: "Draw the built-in detector's boxes (dark lesions cyan, bright lesions blue) and any ground truth (green) onto a PNG.")

    @Argument(help: "A PNG or JPEG image.") var image: String
    @Option(help: "Output PNG.") var out: String
    @Option(
        help: "Ground-truth boxes (image,x,y,w,h,score,class CSV, e.g. a synthetic set's lesions.csv); rows for this file name are drawn.")
    var truth: String?
    @Option(help: "Draw detections with confidence above this (prior work: 0.5).") var conf = 0.5
    @Option(
        help:
            "Detect on the image shrunk so its shorter side is at most this, as the detector/cropper does in training (its --image-side; prior work: 512; 0 = native); boxes are drawn at full size."
    )
    var imageSide = 512
    @Flag(help: "Also print each box drawn: x, y, width, height (full-size pixels), score, class.") var list = false

    func run() throws {
        var picture: RGBImage
        do { picture = try ImageDecoder.decode(contentsOf: image) } catch { throw ValidationError("\(image): \(error)") }
        let detector = ClassicalDetector()
        // What training sees: the same shrink before detection, the boxes scaled back to this picture.
        let working = Resize.shorterSide(picture, atMost: imageSide)
        let back = Double(picture.width) / Double(working.width)
        let found = try detector.detect(working, imageID: image).filter { $0.score > conf }.map { box in
            LesionBox(
                x: box.x * back, y: box.y * back, width: box.width * back, height: box.height * back, score: box.score,
                lesionClass: box.lesionClass)
        }
        let name = URL(fileURLWithPath: image).lastPathComponent
        let truthBoxes = try truth.map { try LesionBoxFile.read($0)[name] ?? [] } ?? []
        // Thicker lines on large images, so they survive being shown scaled down.
        let thickness = max(1, min(picture.width, picture.height) / 400)
        for box in truthBoxes {
            BoxDrawing.outline(
                &picture, x: box.x - 2, y: box.y - 2, width: box.width + 4, height: box.height + 4, colour: (40, 230, 40),
                thickness: thickness)
        }
        for box in found {
            let colour: (UInt8, UInt8, UInt8) = LesionFamily(className: box.lesionClass) == .bright ? (40, 90, 255) : (0, 230, 230)
            BoxDrawing.outline(&picture, x: box.x, y: box.y, width: box.width, height: box.height, colour: colour, thickness: thickness)
        }
        try Data(try PNGEncoder.encode(picture)).write(to: URL(fileURLWithPath: out))
        if list {
            for box in found {
                print(String(format: "%.0f,%.0f,%.0f,%.0f,%.3f,%@", box.x, box.y, box.width, box.height, box.score, box.lesionClass))
            }
        }
        let dark = found.filter { LesionFamily(className: $0.lesionClass) == .dark }.count
        print(
            "\(found.count) detections above \(conf) (\(dark) dark, \(found.count - dark) bright), detected at \(working.width)x\(working.height)"
                + (truth == nil ? "" : ", \(truthBoxes.count) ground-truth lesions") + " -> \(out)")
    }
}
