import Foundation

/// A CSV file read whole (RFC 4180: commas, double-quoted fields with "" escapes, CRLF or LF),
/// each record remembering the line it started on so that every error can name file and line.
public struct CSVTable: Sendable {
    public struct Record: Sendable {
        public let line: Int
        public let fields: [String]
    }

    public let path: String
    public let header: [String]
    public let records: [Record]

    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(
                file: path, line: nil, FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        try self.init(data: data, path: path)
    }

    /// A file's bytes (`path` names it in errors).
    public init(data: Data, path: String) throws {
        guard let text = String(data: data, encoding: .utf8) else { throw DatasetError(file: path, line: nil, "not UTF-8 text") }
        try self.init(text: text, path: path)
    }

    public init(text: String, path: String) throws {
        self.path = path
        var rows = try CSVTable.parse(text, path: path)
        guard !rows.isEmpty else { throw DatasetError(file: path, line: nil, "empty file: expected a header line") }
        let first = rows.removeFirst()
        // A UTF-8 byte-order mark (Excel writes one) is not part of the first column's name.
        header = first.fields.enumerated().map { $0.offset == 0 ? String($0.element.drop { $0 == "\u{FEFF}" }) : $0.element }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        records = rows.filter { !($0.fields.count == 1 && $0.fields[0].isEmpty) }
    }

    /// The index of a column, or an error naming the columns the file has.
    public func column(_ name: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw DatasetError(
                file: path, line: 1, "no column \"\(name)\" (the header has: \(header.map { "\"\($0)\"" }.joined(separator: ", ")))")
        }
        return index
    }

    /// The index of the first of `names` the header has (files that name a column either way).
    public func firstColumn(_ names: [String]) -> Int? {
        names.lazy.compactMap { header.firstIndex(of: $0) }.first
    }

    public func field(_ record: Record, _ column: Int) throws -> String {
        guard column < record.fields.count else {
            throw DatasetError(file: path, line: record.line, "\(record.fields.count) fields, expected \(header.count)")
        }
        return record.fields[column].trimmingCharacters(in: .whitespaces)
    }

    private static func parse(_ text: String, path: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = [], field = "", quoted = false, line = 1, recordLine = 1
        var characters = Array(text.unicodeScalars)[...]
        func endRecord() {
            fields.append(field)
            records.append(Record(line: recordLine, fields: fields))
            (fields, field) = ([], "")
        }
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" { characters.removeFirst(); field.unicodeScalars.append("\"") } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true
            case ",": fields.append(field); field = ""
            case "\r" where characters.first == "\n": break
            case "\n", "\r":
                endRecord()
                line += 1
                recordLine = line
            default: field.unicodeScalars.append(c)
            }
        }
        if quoted { throw DatasetError(file: path, line: recordLine, "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}

/// A dataset problem, naming the file and (when it is about one row) the line.
public struct DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, _ message: String) {
        (self.file, self.line, self.message) = (file, line, message)
    }

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

extension CSVTable {
    /// One CSV line, quoting the fields that need it (RFC 4180).
    public static func line(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}
