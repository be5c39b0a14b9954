import Foundation

/// A lesion box in pixels of its image: what a detector finds and what the synthetic benchmark
/// records as ground truth.
public struct LesionBox: Equatable, Sendable, Codable {
    public var x: Double, y: Double, width: Double, height: Double
    public var score: Double
    public var lesionClass: String

    public init(x: Double, y: Double, width: Double, height: Double, score: Double = 1, lesionClass: String) {
        (self.x, self.y, self.width, self.height, self.score, self.lesionClass) = (x, y, width, height, score, lesionClass)
    }

    public var area: Double { width * height }

    /// The part of the box inside a width x height image.
    public func clipped(width imageWidth: Double, height imageHeight: Double) -> LesionBox {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(imageWidth, x + width), y1 = min(imageHeight, y + height)
        return LesionBox(x: x0, y: y0, width: x1 - x0, height: y1 - y0, score: score, lesionClass: lesionClass)
    }

    /// Intersection over union, the detection-matching criterion of PASCAL VOC.
    public func iou(_ other: LesionBox) -> Double {
        let w = min(x + width, other.x + other.width) - max(x, other.x)
        let h = min(y + height, other.y + other.height) - max(y, other.y)
        guard w > 0, h > 0 else { return 0 }
        let intersection = w * h
        return intersection / (area + other.area - intersection)
    }
}

/// A file of boxes: CSV, one per line, `image,x,y,w,h,score,class` (the ground-truth file `comcl
/// synth` writes), or JSON (`.json`): an array of objects with the same keys (`class` optional),
/// what a detection script most easily dumps. ChestX-ray14's `BBox_List_2017.csv` is read as it
/// comes (`Image Index,Finding Label,Bbox [x,y,w,h]`: pixels of the 1024-px images, the finding
/// as the class, score 1: annotations, not detections).
public enum LesionBoxFile {
    public static let header = ["image", "x", "y", "w", "h", "score", "class"]

    public static func read(_ path: String) throws -> [String: [LesionBox]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(
                file: path, line: nil, FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        return try parse(data, path: path)
    }

    /// A file's bytes: JSON when `path` ends in .json, else CSV.
    public static func parse(_ data: Data, path: String) throws -> [String: [LesionBox]] {
        if path.lowercased().hasSuffix(".json") { return try parseJSON(data, path: path) }
        let table = try CSVTable(data: data, path: path)
        // ChestX-ray14's header splits "Bbox [x,y,w,h]" into four columns: image, finding, x, y, w, h.
        let chestXRay14 = table.header.first == "Image Index" && table.header.dropFirst().first == "Finding Label"
        let columns = chestXRay14 ? [0, 2, 3, 4, 5, -1, 1] : try header.map { try table.column($0) }
        var boxes: [String: [LesionBox]] = [:]
        for record in table.records {
            let fields = try columns.map { $0 < 0 ? "1" : try table.field(record, $0) }
            let numbers = fields[1...5].map { Double($0) }
            guard numbers.allSatisfy({ $0 != nil && $0!.isFinite }) else {
                throw DatasetError(
                    file: path, line: record.line, "x, y, w, h and score must be numbers: \(fields[1...5].joined(separator: ","))")
            }
            let (x, y, w, h, score) = (numbers[0]!, numbers[1]!, numbers[2]!, numbers[3]!, numbers[4]!)
            guard w > 0, h > 0, (0...1).contains(score) else {
                throw DatasetError(file: path, line: record.line, "a box needs w, h > 0 and a score in [0, 1]")
            }
            boxes[fields[0], default: []].append(LesionBox(x: x, y: y, width: w, height: h, score: score, lesionClass: fields[6]))
        }
        return boxes
    }

    private struct JSONBox: Decodable {
        var image: String
        var x: Double, y: Double, w: Double, h: Double, score: Double
        var lesionClass: String?
        enum CodingKeys: String, CodingKey { case image, x, y, w, h, score, lesionClass = "class" }
    }

    private static func parseJSON(_ data: Data, path: String) throws -> [String: [LesionBox]] {
        let list: [JSONBox]
        do { list = try JSONDecoder().decode([JSONBox].self, from: data) } catch {
            throw DatasetError(file: path, line: nil, "expected a JSON array of {image, x, y, w, h, score, class}: \(error)")
        }
        var boxes: [String: [LesionBox]] = [:]
        for (index, b) in list.enumerated() {
            guard [b.x, b.y, b.w, b.h, b.score].allSatisfy(\.isFinite), b.w > 0, b.h > 0, (0...1).contains(b.score) else {
                throw DatasetError(file: path, line: nil, "box \(index) (\(b.image)): needs finite numbers, w, h > 0 and a score in [0, 1]")
            }
            boxes[b.image, default: []].append(
                LesionBox(x: b.x, y: b.y, width: b.w, height: b.h, score: b.score, lesionClass: b.lesionClass ?? "lesion"))
        }
        return boxes
    }

    public static func text(_ boxes: [(image: String, box: LesionBox)]) -> String {
        var lines = [CSVTable.line(header)]
        for (image, b) in boxes {
            lines.append(
                CSVTable.line([image, format(b.x), format(b.y), format(b.width), format(b.height), format(b.score), b.lesionClass]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.4g", value)
    }
}
