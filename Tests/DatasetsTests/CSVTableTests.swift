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

    /// ChestX-ray14's box file as NIH ships it (its first lines), read without conversion.
    @Test func chestXRay14BoxFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("BBox_List_2017-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        Image Index,Finding Label,Bbox [x,y,w,h],,,
        00013118_008.png,Atelectasis,225.084745762712,547.019216763771,86.7796610169491,79.1864406779661,,,
        00014716_007.png,Atelectasis,686.101694915254,131.543009035008,185.491525423729,313.491525423729,,,
        00013118_008.png,Cardiomegaly,366.373333333333,442.311111111111,453.973333333333,229.262222222222,,,

        """.write(toFile: path, atomically: true, encoding: .utf8)
        let boxes = try LesionBoxFile.read(path)
        #expect(boxes.keys.sorted() == ["00013118_008.png", "00014716_007.png"])
        #expect(boxes["00013118_008.png"]?.map(\.lesionClass) == ["Atelectasis", "Cardiomegaly"])
        #expect(
            boxes["00014716_007.png"] == [
                LesionBox(
                    x: 686.101694915254, y: 131.543009035008, width: 185.491525423729, height: 313.491525423729, score: 1,
                    lesionClass: "Atelectasis")
            ])
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
