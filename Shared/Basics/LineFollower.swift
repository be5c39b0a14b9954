import Foundation

/// Reads the whole lines a growing file (a log, a JSON-lines file) gained since the last call;
/// a line still being written waits for its newline.
public final class LineFollower {
    public let url: URL
    private var offset: UInt64 = 0
    private var partial = Data()

    public init(_ url: URL) { self.url = url }

    public func newLineData() -> [Data] {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return [] }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd() else { return [] }
        offset += UInt64(data.count)
        partial += data
        var lines: [Data] = []
        var start = partial.startIndex
        while let newline = partial[start...].firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(Data(partial[start..<newline]))
            start = newline + 1
        }
        // A copy of the unfinished line, not a slice: a slice keeps its whole buffer, and the
        // next append grows that buffer, so it would hold every byte ever read (the soak found
        // `comcl train` gaining 1.2 MiB per 1000 steps of metrics.jsonl this way).
        partial = Data(partial[start...])
        return lines
    }

    public func newLines() -> [String] { newLineData().map { String(decoding: $0, as: UTF8.self) } }
}
