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
    @Option(help: "Ground-truth boxes (image,x,y,w,h,score,class CSV, e.g. a synthetic set's lesions.csv); rows for this file name are drawn.")
    var truth: String?
    @Option(help: "Draw detections with confidence above this (prior work: 0.5).") var conf = 0.5

    func run() throws {
        var picture: RGBImage
        do { picture = try ImageDecoder.decode(contentsOf: image) } catch { throw ValidationError("\(image): \(error)") }
        let detector = ClassicalDetector()
        let found = try detector.detect(picture, imageID: image).filter { $0.score > conf }
        let name = URL(fileURLWithPath: image).lastPathComponent
        let truthBoxes = try truth.map { try LesionBoxFile.read($0)[name] ?? [] } ?? []
        // Thicker lines on large images, so they survive being shown scaled down.
        let thickness = max(1, min(picture.width, picture.height) / 400)
        for box in truthBoxes {
            BoxDrawing.outline(&picture, x: box.x - 2, y: box.y - 2, width: box.width + 4, height: box.height + 4, colour: (40, 230, 40), thickness: thickness)
        }
        for box in found {
            let colour: (UInt8, UInt8, UInt8) = LesionFamily(className: box.lesionClass) == .bright ? (40, 90, 255) : (0, 230, 230)
            BoxDrawing.outline(&picture, x: box.x, y: box.y, width: box.width, height: box.height, colour: colour, thickness: thickness)
        }
        try Data(try PNGEncoder.encode(picture)).write(to: URL(fileURLWithPath: out))
        let dark = found.filter { LesionFamily(className: $0.lesionClass) == .dark }.count
        print("\(found.count) detections above \(conf) (\(dark) dark, \(found.count - dark) bright)"
            + (truth == nil ? "" : ", \(truthBoxes.count) ground-truth lesions") + " -> \(out)")
    }
}
