import Datasets
import Foundation
import Testing

@Suite struct CSVTableTests {
    @Test func quotingLineNumbersAndBOM() throws {
        let table = try CSVTable(text: "\u{FEFF}a,b\n\"x, \"\"quoted\"\"\",2\n\n\"multi\nline\",3\r\nlast,4", path: "t.csv")
        #expect(table.header == ["a", "b"])
        #expect(table.records.map(\.fields) == [["x, \"quoted\"", "2"], ["multi\nline", "3"], ["last", "4"]])
        #expect(table.records.map(\.line) == [2, 4, 6])
        #expect(try table.column("b") == 1)
    }

    @Test func errors() throws {
        #expect(throws: DatasetError(file: "t.csv", line: 2, "a quoted field is never closed")) {
            try CSVTable(text: "a\n\"open\n", path: "t.csv")
        }
        #expect(throws: DatasetError(file: "t.csv", line: nil, "empty file: expected a header line")) {
            try CSVTable(text: "", path: "t.csv")
        }
        let short = try CSVTable(text: "a,b\n1\n", path: "t.csv")
        #expect(throws: DatasetError(file: "t.csv", line: 2, "1 fields, expected 2")) { try short.field(short.records[0], 1) }
    }

    @Test func writingRoundTrips() throws {
        let fields = ["plain", "with,comma", "with \"quote\"", ""]
        let table = try CSVTable(text: "h1,h2,h3,h4\n" + CSVTable.line(fields) + "\n", path: "t.csv")
        #expect(table.records[0].fields == fields)
    }
}

@Suite struct LesionBoxTests {
    @Test func iou() {
        let a = LesionBox(x: 0, y: 0, width: 10, height: 10, lesionClass: "ma")
        #expect(a.iou(a) == 1)
        #expect(abs(a.iou(LesionBox(x: 5, y: 0, width: 10, height: 10, lesionClass: "ma")) - 50.0 / 150) < 1e-12)
        #expect(a.iou(LesionBox(x: 10, y: 0, width: 5, height: 5, lesionClass: "ma")) == 0)
    }

    @Test func fileRoundTripAndErrors() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("boxes-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let boxes = [("a,1.png", LesionBox(x: 1.5, y: 2, width: 3, height: 4, score: 0.75, lesionClass: "haemorrhage"))]
        try LesionBoxFile.text(boxes).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try LesionBoxFile.read(path) == ["a,1.png": [boxes[0].1]])
        try "image,x,y,w,h,score,class\na.png,1,2,0,4,0.5,ma\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DatasetError(file: path, line: 2, "a box needs w, h > 0 and a score in [0, 1]")) { try LesionBoxFile.read(path) }
    }

    @Test func jsonBoxes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("boxes-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try
            #"[{"image": "a.png", "x": 1, "y": 2, "w": 3, "h": 4, "score": 0.9, "class": "dark"}, {"image": "a.png", "x": 5, "y": 6, "w": 7, "h": 8, "score": 0.4}]"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(
            try LesionBoxFile.read(path) == [
                "a.png": [
                    LesionBox(x: 1, y: 2, width: 3, height: 4, score: 0.9, lesionClass: "dark"),
                    LesionBox(x: 5, y: 6, width: 7, height: 8, score: 0.4, lesionClass: "lesion"),
                ]
            ])
        try #"[{"image": "a.png", "x": 1, "y": 2, "w": 0, "h": 4, "score": 0.9}]"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.self) { try LesionBoxFile.read(path) }
        try #"{"not": "a list"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.self) { try LesionBoxFile.read(path) }
    }
}
