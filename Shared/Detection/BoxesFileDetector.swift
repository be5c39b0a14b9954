import Basics
import Datasets
import Foundation
import Images

/// Detections made by an outside tool (an MMDetection run, a hospital's own model), given as a
/// box CSV (`image,x,y,w,h,score,class`, see LesionBoxFile). Rows are matched to an image by its
/// path relative to the data root, or failing that by file name. An image with no rows has no
/// lesions found.
public struct BoxesFileDetector: LesionDetector {
    public let identity: String
    private let byPath: [String: [LesionBox]]
    private let byName: [String: [LesionBox]]

    public init(path: String) throws {
        byPath = try LesionBoxFile.read(path)
        var byName: [String: [LesionBox]] = [:]
        for (key, boxes) in byPath { byName[URL(fileURLWithPath: key).lastPathComponent, default: []] += boxes }
        self.byName = byName
        // The file's content is part of the identity: editing it invalidates cached detections.
        let bytes = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
        identity = "boxes-file \(URL(fileURLWithPath: path).lastPathComponent) \(ContentHash.hex(bytes))"
    }

    public func detect(_ image: RGBImage, imageID: String) throws -> [LesionBox] {
        byPath[imageID] ?? byName[URL(fileURLWithPath: imageID).lastPathComponent] ?? []
    }
}
